package dev.laconic.compression.plot;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Small PNG charts for run directories (TL;DR weight curves, RL reward/length curves, the demo's
 * Pareto plot), drawn with java.awt in headless mode: no plotting dependency.
 *
 * <p>A chart is a column of panels sharing the x axis label; each panel has its own y range, taken
 * from its data (with 5 % padding). A series is drawn as a polyline, or as labelled points
 * ({@link Series#points}). Text needs the JDK's font support (fontconfig and one font on Linux); where
 * that is missing, the chart is drawn without text rather than failing the run that asked for it.
 */
public final class Chart {
    private static final int WIDTH = 900, PANEL_HEIGHT = 300, LEFT = 80, RIGHT = 200, TOP = 36, BOTTOM = 44;
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

    private Chart() {}

    /**
     * One curve or point set.
     *
     * @param x, y    [N] coordinates (NaN points are skipped)
     * @param points  draw markers (with {@code labels} beside them when given) instead of a line
     * @param labels  [N] per-point labels, or null
     */
    public record Series(String name, double[] x, double[] y, boolean points, String[] labels) {
        public Series {
            if (x.length != y.length) throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
            if (labels != null && labels.length != x.length) throw new IllegalArgumentException("series " + name + ": labels do not match points");
        }

        public static Series line(String name, double[] x, double[] y) {
            return new Series(name, x, y, false, null);
        }

        public static Series scatter(String name, double[] x, double[] y, String[] labels) {
            return new Series(name, x, y, true, labels);
        }
    }

    public record Panel(String title, String yLabel, List<Series> series) {}

    /** Writes the panels, stacked, to {@code png} (atomically: a temporary file renamed into place). */
    public static void write(Path png, String xLabel, List<Panel> panels) throws IOException {
        if (panels.isEmpty()) throw new IllegalArgumentException("a chart needs at least one panel");
        System.setProperty("java.awt.headless", "true");
        int height = panels.size() * PANEL_HEIGHT;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, height);
        for (int i = 0; i < panels.size(); i++) drawPanel(g, panels.get(i), xLabel, i * PANEL_HEIGHT);
        g.dispose();
        Path parent = png.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, ".chart", ".png");
        try {
            if (!ImageIO.write(image, "png", tmp.toFile())) throw new IOException("no PNG writer in this JDK");
            Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void drawPanel(Graphics2D g, Panel p, String xLabel, int y0) {
        double[] xr = range(p.series(), true), yr = range(p.series(), false);
        int plotW = WIDTH - LEFT - RIGHT, plotH = PANEL_HEIGHT - TOP - BOTTOM;
        int px0 = LEFT, py0 = y0 + TOP;
        g.setColor(new Color(0xdddddd));
        for (int k = 0; k <= 4; k++) {
            int yy = py0 + plotH - k * plotH / 4, xx = px0 + k * plotW / 4;
            g.drawLine(px0, yy, px0 + plotW, yy);
            g.drawLine(xx, py0, xx, py0 + plotH);
        }
        g.setColor(Color.BLACK);
        g.drawRect(px0, py0, plotW, plotH);
        text(g, p.title(), px0, y0 + 22, 15, true);
        text(g, xLabel, px0 + plotW / 2 - 30, py0 + plotH + 36, 12, false);
        text(g, p.yLabel(), 6, py0 - 6, 12, false);
        for (int k = 0; k <= 4; k++) {
            double xv = xr[0] + k * (xr[1] - xr[0]) / 4, yv = yr[0] + k * (yr[1] - yr[0]) / 4;
            text(g, tick(xv), px0 + k * plotW / 4 - 12, py0 + plotH + 16, 11, false);
            text(g, tick(yv), 8, py0 + plotH - k * plotH / 4 + 4, 11, false);
        }
        for (int s = 0; s < p.series().size(); s++) {
            Series series = p.series().get(s);
            g.setColor(PALETTE[s % PALETTE.length]);
            g.setStroke(new BasicStroke(2f));
            int lastX = Integer.MIN_VALUE, lastY = 0;
            for (int i = 0; i < series.x().length; i++) {
                double xv = series.x()[i], yv = series.y()[i];
                if (!Double.isFinite(xv) || !Double.isFinite(yv)) { lastX = Integer.MIN_VALUE; continue; }
                int sx = px0 + (int) Math.round((xv - xr[0]) / (xr[1] - xr[0]) * plotW);
                int sy = py0 + plotH - (int) Math.round((yv - yr[0]) / (yr[1] - yr[0]) * plotH);
                if (series.points()) {
                    g.fillOval(sx - 5, sy - 5, 10, 10);
                    if (series.labels() != null) text(g, series.labels()[i], sx + 8, sy - 6, 11, false);
                } else if (lastX != Integer.MIN_VALUE) {
                    g.drawLine(lastX, lastY, sx, sy);
                }
                lastX = sx;
                lastY = sy;
            }
            g.fillRect(px0 + plotW + 14, py0 + 8 + s * 18, 12, 12);
            g.setColor(Color.BLACK);
            text(g, series.name(), px0 + plotW + 32, py0 + 19 + s * 18, 12, false);
        }
    }

    /** [min, max] over finite values, padded by 5 % (a single value gets ±1 or ±5 %). */
    static double[] range(List<Series> series, boolean x) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            double[] v = x ? s.x() : s.y();
            double[] other = x ? s.y() : s.x();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i]) || !Double.isFinite(other[i])) continue;
                lo = Math.min(lo, v[i]);
                hi = Math.max(hi, v[i]);
            }
        }
        if (lo > hi) return new double[]{0, 1};
        if (lo == hi) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.05;
            return new double[]{lo - pad, hi + pad};
        }
        double pad = (hi - lo) * 0.05;
        return new double[]{lo - pad, hi + pad};
    }

    private static String tick(double v) {
        double a = Math.abs(v);
        if (a >= 1000) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /** Draws text where the JDK can (fonts present); otherwise leaves it out. */
    private static void text(Graphics2D g, String s, int x, int y, int size, boolean bold) {
        if (s == null || s.isEmpty()) return;
        try {
            Color c = g.getColor();
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, size));
            g.drawString(s, x, y);
            g.setColor(c);
        } catch (Throwable missingFonts) {
            // headless JDK without fontconfig: curves without text are still worth having
        }
    }
}
