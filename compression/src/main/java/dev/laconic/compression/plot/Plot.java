package dev.laconic.compression.plot;

import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Charts of a run directory (TL;DR weights.png, RL curves.png, the demo's pareto.png), drawn with XChart in
 * headless mode and written twice: {@code NAME.png} and {@code NAME.svg} beside it.
 *
 * <p>A chart is a column of panels over one x axis; each panel is an XChart of its own (so no style leaks from
 * one to the next) with its legend below the plot and a fixed y-axis width, so the panels' x axes line up.
 * Axis ranges come from {@link Axis#range}: padded, on multiples of a 1-2-5 step and clamped to the quantity's
 * domain, so an accuracy axis never shows −0.2 and a step axis never shows 15.1. A panel's series are lines,
 * markers, dashed reference lines, or noisy curves drawn faint with their moving average over them
 * ({@link Kind#SMOOTHED}).
 */
public final class Plot {
    static final int WIDTH = 1000, PANEL_HEIGHT = 340, SCATTER_HEIGHT = 800, Y_AXIS_WIDTH = 64;
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0x7f7f7f)};
    private static final Marker[] MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND, SeriesMarkers.SQUARE,
            SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.OVAL, SeriesMarkers.CROSS, SeriesMarkers.PLUS};
    private static boolean warned;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plot() {}

    /** How a series is drawn. */
    public enum Kind {
        /** a line */
        LINE,
        /** a line with a marker at every point (few points, e.g. evaluations) */
        MARKED,
        /** markers only */
        POINTS,
        /** a dashed line (a reference level) */
        REFERENCE,
        /** the raw values as a faint line, their moving average ({@link #smooth}) as a bold one over it */
        SMOOTHED
    }

    /**
     * One curve or point set.
     *
     * @param x, y   [N] coordinates (points with a NaN coordinate are left out)
     * @param colour its colour, or null for the panel's next one
     */
    public record Series(String name, double[] x, double[] y, Kind kind, Color colour) {
        public Series {
            if (x.length != y.length) throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
        }

        public Series(String name, double[] x, double[] y, Kind kind) {
            this(name, x, y, kind, null);
        }

        /** The same series in {@code c} instead of the panel's next palette colour. */
        public Series in(Color c) {
            return new Series(name, x, y, kind, c);
        }

        public static Series line(String name, double[] x, double[] y) { return new Series(name, x, y, Kind.LINE); }
        public static Series marked(String name, double[] x, double[] y) { return new Series(name, x, y, Kind.MARKED); }
        public static Series points(String name, double[] x, double[] y) { return new Series(name, x, y, Kind.POINTS); }
        public static Series smoothed(String name, double[] x, double[] y) { return new Series(name, x, y, Kind.SMOOTHED); }

        /** A horizontal dashed line at {@code y} across the plot. */
        public static Series level(String name, double y) {
            return new Series(name, new double[]{0, 1}, new double[]{y, y}, Kind.REFERENCE);
        }

        /** A vertical dashed line at {@code x} across the plot. */
        public static Series at(String name, double x) {
            return new Series(name, new double[]{x, x}, new double[]{0, 1}, Kind.REFERENCE);
        }
    }

    public record Panel(String title, Axis y, List<Series> series) {}

    /** One labelled point of a {@link #scatter}. */
    public record Point(String name, double x, double y) {}

    /**
     * Writes the panels, stacked over the shared x axis (one range for all: the data's first to last x), to {@code png} and to the {@code .svg} beside it
     * (each atomically). Returns false, having said why on stderr once, where this JDK cannot draw text
     * (headless without fonts): a run never fails for its pictures.
     */
    public static boolean write(Path png, Axis x, List<Panel> panels) throws IOException {
        if (panels.isEmpty()) throw new IllegalArgumentException("a chart needs at least one panel");
        List<XYChart> charts = new ArrayList<>();
        try {
            // one x range for all panels, so that they line up
            double lo = Double.NaN, hi = Double.NaN;
            for (Panel p : panels) {
                double[] e = extent(p.series(), true);
                if (!Double.isNaN(e[0])) { lo = Double.isNaN(lo) ? e[0] : Math.min(lo, e[0]); hi = Double.isNaN(hi) ? e[1] : Math.max(hi, e[1]); }
            }
            Axis.Range xr = x.range(lo, hi, 0);
            for (int i = 0; i < panels.size(); i++) charts.add(chart(panels.get(i), x, xr, PANEL_HEIGHT, i == panels.size() - 1));
        } catch (LinkageError | InternalError e) {
            return cannotDraw(png, e);
        }
        return save(png, charts, PANEL_HEIGHT);
    }

    /**
     * A scatter of named points (the demo's accuracy against length), tall enough to read: every point has
     * its own colour and marker and a number beside it, placed where it overlaps no other number or point;
     * the legend below says which number is which. {@code guides}: dashed reference lines (may be empty).
     */
    public static boolean scatter(Path png, String title, Axis x, Axis y, List<Point> points, List<Series> guides) throws IOException {
        List<Series> all = new ArrayList<>();
        Color[] greys = {new Color(0x444444), new Color(0x999999)};
        for (int i = 0; i < guides.size(); i++) all.add(guides.get(i).colour() != null ? guides.get(i) : guides.get(i).in(greys[i % 2]));
        List<Series> numbered = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            Point p = points.get(i);
            numbered.add(Series.points((i + 1) + "  " + p.name(), new double[]{p.x()}, new double[]{p.y()}));
        }
        all.addAll(numbered);
        XYChart chart;
        try {
            double[] e = extent(all, true);
            chart = chart(new Panel(title, y, all), x, x.range(e[0], e[1], 0.05), SCATTER_HEIGHT, true);
            chart.getStyler().setMarkerSize(13);
            chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
            // a first paint lays the chart out, so that data map to pixels; then the numbers are placed
            BufferedImage scratch = new BufferedImage(WIDTH, SCATTER_HEIGHT, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = scratch.createGraphics();
            chart.paint(g, WIDTH, SCATTER_HEIGHT);
            g.dispose();
            double[][] px = new double[points.size()][];
            for (int i = 0; i < px.length; i++)
                px[i] = new double[]{chart.getScreenXFromChart(points.get(i).x()), chart.getScreenYFromChart(points.get(i).y())};
            Rectangle2D plot = new Rectangle2D.Double(chart.getScreenXFromChart(chart.getStyler().getXAxisMin()),
                    chart.getScreenYFromChart(chart.getStyler().getYAxisMax()), 0, 0);
            plot.add(chart.getScreenXFromChart(chart.getStyler().getXAxisMax()), chart.getScreenYFromChart(chart.getStyler().getYAxisMin()));
            double[] halfWidth = new double[points.size()];
            for (int i = 0; i < halfWidth.length; i++) halfWidth[i] = 3 + 4.5 * Integer.toString(i + 1).length();
            List<double[]> at = Labels.place(px, halfWidth, 8, 14, 8, plot);
            for (int i = 0; i < at.size(); i++) {
                AnnotationText t = new AnnotationText(Integer.toString(i + 1), at.get(i)[0], SCATTER_HEIGHT - at.get(i)[1], true);
                chart.addAnnotation(t);
            }
            chart.getStyler().setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            chart.getStyler().setAnnotationTextFontColor(Color.BLACK);
        } catch (LinkageError | InternalError e) {
            return cannotDraw(png, e);
        }
        return save(png, List.of(chart), SCATTER_HEIGHT);
    }

    /** One XChart: fixed axis ranges, explicit colours, the legend below; the x axis title only where {@code xTitle}. */
    private static XYChart chart(Panel p, Axis x, Axis.Range xr, int height, boolean xTitle) {
        XYChart c = new XYChart(WIDTH, height);
        c.setTitle(p.title());
        c.setXAxisTitle(xTitle ? x.label() : "");
        c.setYAxisTitle(p.y().label());
        XYStyler s = c.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderColor(new Color(0x888888));
        s.setPlotGridLinesColor(new Color(0xe4e4e4));
        s.setChartTitleBoxVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setLegendBorderColor(Color.WHITE);
        s.setYAxisLeftWidthHint(Y_AXIS_WIDTH);
        // 97.5 %: a thin margin inside the frame, too thin for a tick beyond the range to show
        s.setPlotContentSize(0.975);
        s.setMarkerSize(9);
        s.setYAxisTickMarkSpacingHint(44);

        double[] ys = extent(p.series(), false);
        Axis.Range yr = p.y().range(ys[0], ys[1]);
        s.setXAxisMin(xr.min());
        s.setXAxisMax(xr.max());
        s.setYAxisMin(yr.min());
        s.setYAxisMax(yr.max());
        s.setXAxisTickLabelsFormattingFunction(x::label);
        s.setYAxisTickLabelsFormattingFunction(p.y()::label);
        // XChart puts the ticks at the data's x values where those are equally spaced (steps 1, 2, 3, ...: ticks at
        // 1, 4, 7); a hidden first series from the range's top corner to its bottom one breaks that spacing, so the
        // ticks are always the 1-2-5 multiples of the range
        XYSeries frame = c.addSeries("\u0000range", new double[]{xr.max(), xr.min()}, new double[]{yr.max(), yr.min()});
        frame.setShowInLegend(false);
        frame.setMarker(SeriesMarkers.NONE);
        frame.setLineStyle(SeriesLines.NONE);
        frame.setLineColor(new Color(0, 0, 0, 0));

        int colour = 0, marker = 0;
        for (Series series : p.series()) {
            Color col = series.colour() != null ? series.colour() : PALETTE[colour++ % PALETTE.length];
            switch (series.kind()) {
                case LINE -> line(c, series.name(), series.x(), series.y(), col, 2f, SeriesMarkers.NONE, true);
                case MARKED -> line(c, series.name(), series.x(), series.y(), col, 2f, SeriesMarkers.CIRCLE, true);
                case POINTS -> {
                    XYSeries xy = add(c, series.name(), series.x(), series.y());
                    xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                    xy.setMarker(MARKERS[marker++ % MARKERS.length]);
                    xy.setMarkerColor(col);
                }
                case REFERENCE -> {
                    double[] gx = series.x(), gy = series.y();                  // a level spans the whole plot
                    if (horizontal(series)) gx = new double[]{xr.min(), xr.max()};
                    else if (vertical(series)) gy = new double[]{yr.min(), yr.max()};
                    XYSeries xy = line(c, series.name(), gx, gy, col, 1.5f, SeriesMarkers.NONE, true);
                    xy.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
                }
                case SMOOTHED -> {
                    boolean few = series.y().length < SMOOTH_MIN_POINTS;
                    Color faint = new Color(col.getRed(), col.getGreen(), col.getBlue(), 90);
                    line(c, series.name() + (few ? "" : " (raw)"), series.x(), series.y(), few ? col : faint, few ? 2f : 1f,
                            SeriesMarkers.NONE, few);
                    if (!few) line(c, series.name(), series.x(), smooth(series.y()), col, 2.5f, SeriesMarkers.NONE, true);
                }
            }
        }
        return c;
    }

    private static XYSeries line(XYChart c, String name, double[] x, double[] y, Color col, float width, Marker m, boolean legend) {
        XYSeries xy = add(c, name, x, y);
        xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        xy.setLineColor(col);
        xy.setLineStyle(new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        xy.setMarker(m);
        xy.setMarkerColor(col);
        xy.setShowInLegend(legend);
        return xy;
    }

    /** XChart draws NaN as a gap but refuses a series with no finite point; such a series gets one off the chart. */
    private static XYSeries add(XYChart c, String name, double[] x, double[] y) {
        String unique = name;
        for (int k = 2; c.getSeries(unique) != null; k++) unique = name + " ".repeat(k - 1);
        double[] xs = x.clone(), ys = y.clone();
        for (int i = 0; i < xs.length; i++)
            if (!Double.isFinite(xs[i]) || !Double.isFinite(ys[i])) xs[i] = ys[i] = Double.NaN;
        if (xs.length == 0) { xs = new double[]{Double.NaN}; ys = new double[]{Double.NaN}; }
        return c.addSeries(unique, xs, ys);
    }

    /**
     * [min, max] of the finite points of the series (NaN, NaN when there are none); a horizontal reference level
     * counts for y only, a vertical one for x only (they are drawn across the whole plot).
     */
    static double[] extent(List<Series> series, boolean x) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series)
            for (int i = 0; i < s.x().length; i++) {
                if (x ? horizontal(s) : vertical(s)) continue;
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) continue;
                double v = x ? s.x()[i] : s.y()[i];
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        return lo > hi ? new double[]{Double.NaN, Double.NaN} : new double[]{lo, hi};
    }

    private static boolean horizontal(Series s) {
        return s.kind() == Kind.REFERENCE && s.y().length == 2 && s.y()[0] == s.y()[1] && s.x()[0] != s.x()[1];
    }

    private static boolean vertical(Series s) {
        return s.kind() == Kind.REFERENCE && s.x().length == 2 && s.x()[0] == s.x()[1] && s.y()[0] != s.y()[1];
    }

    /** Below this many points a {@link Kind#SMOOTHED} series is drawn as a plain line. */
    static final int SMOOTH_MIN_POINTS = 6;

    /**
     * The bias-corrected exponential moving average (TensorBoard's smoothing) over about a fifth of the points
     * (span w = clamp(n / 5, 2, 25), α = 2 / (w + 1)):
     * <pre>  m_t = (1 − α) m_{t−1} + α y_t,   s_t = m_t / (1 − (1 − α)^t)  </pre>
     * NaN values are skipped (their smoothed value is NaN, the average goes on past them).
     */
    public static double[] smooth(double[] y) {
        double w = Math.max(2, Math.min(25, y.length / 5.0));
        double alpha = 2 / (w + 1), m = 0, decay = 1;
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            if (!Double.isFinite(y[i])) { out[i] = Double.NaN; continue; }
            m = (1 - alpha) * m + alpha * y[i];
            decay *= 1 - alpha;
            out[i] = m / (1 - decay);
        }
        return out;
    }

    // ---- output --------------------------------------------------------------------------------

    /** The .svg beside a .png. */
    public static Path svgOf(Path png) {
        String name = png.getFileName().toString();
        String stem = name.toLowerCase(Locale.ROOT).endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        return png.resolveSibling(stem + ".svg");
    }

    private static boolean save(Path png, List<XYChart> charts, int height) throws IOException {
        int total = charts.size() * height;
        BufferedImage image = new BufferedImage(WIDTH, total, BufferedImage.TYPE_INT_RGB);
        VectorGraphics2D vector = new VectorGraphics2D();
        try {
            Graphics2D g = image.createGraphics();
            for (int i = 0; i < charts.size(); i++) {
                Graphics2D gi = (Graphics2D) g.create(0, i * height, WIDTH, height);
                charts.get(i).paint(gi, WIDTH, height);
                gi.dispose();
                Graphics2D vi = (Graphics2D) vector.create();
                vi.translate(0, i * height);
                charts.get(i).paint(vi, WIDTH, height);
                vi.dispose();
            }
            g.dispose();
        } catch (LinkageError | InternalError e) {
            return cannotDraw(png, e);
        }
        atomically(png, out -> {
            if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer in this JDK");
        });
        ByteArrayOutputStream svg = new ByteArrayOutputStream();
        new SVGProcessor().getDocument(vector.getCommands(), new PageSize(0, 0, WIDTH, total)).writeTo(svg);
        byte[] small = roundSvgNumbers(svg.toString(StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        atomically(svgOf(png), out -> out.write(small));
        return true;
    }

    private static final Pattern LONG_DECIMAL = Pattern.compile("(\\d\\.\\d{2})\\d+");

    /**
     * Every number with more than two decimals cut to two (1/100 px): XChart draws its text as outlines, whose
     * coordinates VectorGraphics2D writes with up to ten decimals; this halves the file and changes no pixel.
     */
    static String roundSvgNumbers(String svg) {
        return LONG_DECIMAL.matcher(svg).replaceAll("$1");
    }

    private interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private static void atomically(Path file, Writer w) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve("." + file.getFileName() + ".tmp-" + Long.toHexString(System.nanoTime()));
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
                w.write(out);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static synchronized boolean cannotDraw(Path png, Throwable e) {
        if (!warned) {
            warned = true;
            System.err.println("laconic: cannot draw charts in this JVM (" + e + "); " + png.getFileName()
                    + " and the other pictures are left out. Installing fontconfig and a font (e.g. fonts-dejavu) fixes it.");
        }
        return false;
    }
}
