package dev.laconic.compression.plot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ChartTest {
    @Test
    void writesOnePanelPerRowWithTheSeriesColourOnTheCurve(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("sub/c.png");
        double[] x = {0, 1, 2, 3}, y = {0, 1, 2, 3};
        Chart.write(png, "step", List.of(
                new Chart.Panel("a", "y", List.of(Chart.Series.line("diag", x, y))),
                new Chart.Panel("b", "y", List.of(Chart.Series.scatter("pts", new double[]{1}, new double[]{5}, new String[]{"p"})))));
        BufferedImage im = ImageIO.read(png.toFile());
        assertEquals(900, im.getWidth());
        assertEquals(600, im.getHeight());
        // the midpoint of the diagonal (x = 1.5 of range [-0.15, 3.15]) lies at the plot's centre
        int cx = 80 + 620 / 2, cy = 36 + (300 - 36 - 44) / 2;
        boolean found = false;
        for (int dx = -2; dx <= 2 && !found; dx++)
            for (int dy = -2; dy <= 2 && !found; dy++)
                found = (im.getRGB(cx + dx, cy + dy) & 0xffffff) == 0x1f77b4;
        assertTrue(found, "the first series' colour is on the curve's midpoint");
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void rangeIgnoresNonFiniteAndPadsSingleValues() {
        double[] r = Chart.range(List.of(Chart.Series.line("s", new double[]{2, Double.NaN}, new double[]{4, 9})), true);
        assertEquals(1.9, r[0], 1e-12);
        assertEquals(2.1, r[1], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Chart.Series.line("bad", new double[1], new double[2]));
    }
}
