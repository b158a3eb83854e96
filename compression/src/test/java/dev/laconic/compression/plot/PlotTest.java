package dev.laconic.compression.plot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PlotTest {
    static Document svg(Path file) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(file.toFile());
    }

    /** Asserts {@code png} is a PNG of the given size with an SVG beside it; returns the image. */
    static BufferedImage assertPictures(Path png, int width, int height) throws Exception {
        byte[] head = Files.readAllBytes(png);
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, java.util.Arrays.copyOf(head, 8), "PNG signature");
        BufferedImage im = ImageIO.read(png.toFile());
        assertEquals(width, im.getWidth());
        assertEquals(height, im.getHeight());
        Path svg = Plot.svgOf(png);
        assertTrue(Files.isRegularFile(svg), svg + " beside " + png);
        Document d = svg(svg);
        assertEquals("svg", d.getDocumentElement().getNodeName());
        assertTrue(d.getElementsByTagName("path").getLength() + d.getElementsByTagName("polyline").getLength() > 0, "the SVG draws something");
        assertTrue(d.getDocumentElement().getTextContent().contains("step") || Files.readString(svg).contains("<text")
                || Files.readString(svg).length() > 5000, "the SVG has text (or its outlines)");
        return im;
    }

    @Test
    void panelsAreStackedIntoOnePngWithAnSvgBesideIt(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("sub/c.png");
        double[] x = new double[40], y = new double[40];
        for (int i = 0; i < x.length; i++) { x[i] = i + 1; y[i] = Math.sin(i) + i / 10.0; }
        assertTrue(Plot.write(png, Axis.count("step"), List.of(
                new Plot.Panel("a", Axis.real("y"), List.of(Plot.Series.smoothed("noisy", x, y), Plot.Series.level("zero", 0))),
                new Plot.Panel("b", Axis.fraction("accuracy"), List.of(Plot.Series.marked("acc", new double[]{0, 10, 20}, new double[]{0.2, 0.9, 1.0}),
                        Plot.Series.points("picked", new double[]{20}, new double[]{Double.NaN}))))));
        BufferedImage im = assertPictures(png, Plot.WIDTH, 2 * Plot.PANEL_HEIGHT);
        // the first series' colour (the smoothed line) is drawn somewhere in the first panel, not in the second
        assertTrue(count(im, 0x1f77b4, 0, Plot.PANEL_HEIGHT) > 100, "the smoothed curve is drawn in panel 1");
        try (var files = Files.list(png.getParent())) {
            assertEquals(List.of("c.png", "c.svg"), files.map(f -> f.getFileName().toString()).sorted().toList(), "no temporary file left behind");
        }
    }

    static int count(BufferedImage im, int rgb, int y0, int y1) {
        int n = 0;
        for (int yy = y0; yy < y1; yy++)
            for (int xx = 0; xx < im.getWidth(); xx++) if ((im.getRGB(xx, yy) & 0xffffff) == rgb) n++;
        return n;
    }

    @Test
    void scatterNumbersItsPointsAndWritesBothFiles(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("pareto.png");
        List<Plot.Point> pts = List.of(new Plot.Point("a", 300, 80), new Plot.Point("b", 302, 80.5), new Plot.Point("c", 300, 80),
                new Plot.Point("d", 120, 40));
        assertTrue(Plot.scatter(png, "t", Axis.nonNegative("tokens"), Axis.percent("accuracy (%)"), pts,
                List.of(Plot.Series.at("x guide", 180), Plot.Series.level("y guide", 78))));
        assertPictures(png, Plot.WIDTH, Plot.SCATTER_HEIGHT);
    }

    @Test
    void rangesAreNiceAndStayInTheDomain() {
        // accuracy near 1: the range stops at 1, never above; near 0: never below 0
        Axis.Range r = Axis.fraction("acc").range(0.62, 1.0);
        assertEquals(1.0, r.max());
        assertTrue(r.min() >= 0 && r.min() <= 0.62 - 0.019, r.toString());
        assertEquals(0.0, Axis.fraction("acc").range(0.0, 0.3).min());
        assertEquals(0.0, Axis.fraction("acc").range(0.0, 0.0).min());
        assertTrue(Axis.fraction("acc").range(0.0, 0.0).max() > 0);
        assertEquals(new Axis.Range(0, 1, 0.1), Axis.fraction("acc").range(Double.NaN, Double.NaN));
        // steps: from 0 on, a whole-number tick step and whole-number ends
        Axis.Range s = Axis.count("step").range(1, 15);
        assertEquals(0.0, s.min());
        assertTrue(s.max() >= 15 && s.max() == Math.rint(s.max()), s.toString());
        assertTrue(s.step() >= 1 && s.step() == Math.rint(s.step()), s.toString());
        Axis.Range one = Axis.count("step").range(3, 3);
        assertTrue(one.min() <= 2 && one.max() >= 4 && one.step() >= 1, one.toString());
        // unbounded: ends are multiples of the step (no −2.625)
        Axis.Range k = Axis.real("kl").range(-2.61, 3.07);
        assertTrue(k.min() <= -2.61 && k.max() >= 3.07, k.toString());
        assertEquals(0, Math.abs(k.min() / k.step() - Math.rint(k.min() / k.step())), 1e-9, k.toString());
        assertEquals(0, Math.abs(k.max() / k.step() - Math.rint(k.max() / k.step())), 1e-9, k.toString());
        assertEquals(new Axis.Range(0, 100, 10), Axis.percent("%").range(0, 100));
        assertEquals(new Axis.Range(1, 40, 5), Axis.count("rollout").range(1, 40, 0), "no padding: the axis ends at the first and last step");
        assertEquals(0.0, Axis.count("rollout").range(0, 0, 0).min());
        assertEquals(1.0, Axis.count("rollout").range(0, 0, 0).max());
        assertThrows(IllegalArgumentException.class, () -> new Axis("bad", 1, 1, false));
    }

    @Test
    void tickLabelsAreShortAndWholeOnCountAxes() {
        assertEquals("0.3", Axis.real("y").label(0.1 + 0.2));
        assertEquals("15", Axis.real("y").label(15.0));
        assertEquals("1200", Axis.real("y").label(1200));
        assertEquals("0", Axis.real("y").label(-1e-17));
        assertEquals("-2.5", Axis.real("y").label(-2.5));
        assertEquals("", Axis.count("step").label(15.1));
        assertEquals("", Axis.count("step").label(2.5));
        assertEquals("16", Axis.count("step").label(16));
        assertEquals(2.0, Axis.niceStep(1.3));
        assertEquals(0.05, Axis.niceStep(0.031));
        assertEquals(1.0, Axis.niceStep(1.0));
    }

    @Test
    void svgNumbersAreCutToTwoDecimals() {
        assertEquals("<path d=\"M-6.01,-5.34 L12.5,3 L7.00,1\" id=\"clip893835136\"/>",
                Plot.roundSvgNumbers("<path d=\"M-6.015625,-5.34375 L12.5,3 L7.000001,1\" id=\"clip893835136\"/>"));
    }

    @Test
    void smoothingFollowsTheLevelAndSkipsNaN() {
        double[] flat = Plot.smooth(new double[]{2, 2, 2, 2, 2, 2, 2, 2});
        for (double v : flat) assertEquals(2, v, 1e-12, "bias-corrected: no ramp up from 0");
        double[] s = Plot.smooth(new double[]{0, 10, Double.NaN, 0, 10, 0, 10, 0, 10, 0, 10, 0});
        assertTrue(Double.isNaN(s[2]));
        for (int i = 4; i < s.length; i++) if (i != 2) assertTrue(s[i] > 1 && s[i] < 9, "smoothed " + s[i]);
    }

    @Test
    void labelsOfCoincidentPointsDoNotOverlap() {
        double[][] px = {{100, 100}, {100, 100}, {102, 101}, {400, 300}};
        double[] half = {7.5, 7.5, 7.5, 7.5};
        List<double[]> at = Labels.place(px, half, 8, 14, 8, new Rectangle2D.Double(0, 0, 800, 600));
        assertFalse(Labels.overlap(at, half, 8), "no two labels overlap");
        for (int i = 0; i < at.size(); i++)
            for (double[] p : px)
                assertFalse(Math.abs(at.get(i)[0] - p[0]) < half[i] + 8 && Math.abs(at.get(i)[1] - p[1]) < 16, "a label covers a marker");
        // a collision is detected at all (so the assertion above can fail)
        assertTrue(Labels.overlap(List.of(new double[]{0, 0}, new double[]{5, 5}), new double[]{7.5, 7.5}, 8));
    }
}
