package dev.laconic.compression.plot;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * One axis of a chart: its label and the domain its values live in, so that the drawn range never leaves it
 * (an accuracy axis stays within [0, 1], a step axis starts at 0 or later and has whole-number ticks).
 *
 * @param label   the axis title
 * @param min     the smallest value the quantity can take (−∞: none)
 * @param max     the largest value the quantity can take (+∞: none)
 * @param integer the quantity is a count (ticks at whole numbers only, tick step ≥ 1)
 */
public record Axis(String label, double min, double max, boolean integer) {
    /** About this many tick steps across an axis. */
    static final int TICKS = 5;

    public Axis {
        if (!(min < max)) throw new IllegalArgumentException("axis " + label + ": domain [" + min + ", " + max + "] is empty");
    }

    /** Any real value. */
    public static Axis real(String label) { return new Axis(label, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, false); }

    /** A value ≥ 0 (tokens, seconds). */
    public static Axis nonNegative(String label) { return new Axis(label, 0, Double.POSITIVE_INFINITY, false); }

    /** A count ≥ 0 with whole-number ticks (steps, rollouts). */
    public static Axis count(String label) { return new Axis(label, 0, Double.POSITIVE_INFINITY, true); }

    /** A fraction in [0, 1] (accuracy, a share, a mixture weight). */
    public static Axis fraction(String label) { return new Axis(label, 0, 1, false); }

    /** A percentage in [0, 100]. */
    public static Axis percent(String label) { return new Axis(label, 0, 100, false); }

    /**
     * The drawn range: from {@code lo} to {@code hi} (the data's extent; NaN when there is no data) padded by
     * {@code pad} of the span, widened to multiples of a 1-2-5 step of about a tenth of it and clamped to this
     * axis's domain. With {@code pad} 0 (an x axis) the ends are the data's own (whole numbers on an integer axis).
     *
     * @param step the step the ends are multiples of (≥ 1 on an integer axis); ticks fall on multiples of it too
     */
    public record Range(double min, double max, double step) {}

    /** {@link #range(double, double, double)} with 5 % padding (a value axis: no point on the frame). */
    public Range range(double lo, double hi) {
        return range(lo, hi, 0.05);
    }

    public Range range(double lo, double hi, double pad) {
        if (Double.isNaN(lo) || Double.isNaN(hi) || lo > hi) {                  // no data: the domain, or [0, 1] inside it
            lo = Double.isFinite(min) ? min : Math.min(0, max - 1);
            hi = Double.isFinite(max) ? max : lo + 1;
        }
        lo = clamp(lo);
        hi = clamp(hi);
        double p = lo == hi ? (lo == 0 ? 1 : Math.abs(lo) * 0.1) : (hi - lo) * pad;
        if (integer && lo == hi) p = Math.max(p, 1);
        double a = clamp(lo - p), b = clamp(hi + p);
        if (a == b) {                                                            // a single value at a domain edge
            if (a == min) b = clamp(a + 1);
            else a = clamp(b - 1);
        }
        double step = niceStep((b - a) / (2 * TICKS));
        if (integer) step = Math.max(1, step);
        if (pad == 0) {                     // an x axis: from the first to the last x (whole numbers on a count axis)
            if (integer) { a = clamp(Math.floor(a)); b = clamp(Math.ceil(b)); }
            if (a == b) b = clamp(a + (integer ? 1 : Math.max(1e-9, Math.abs(a) * 0.1)));
            if (a == b) a = clamp(b - (integer ? 1 : Math.max(1e-9, Math.abs(b) * 0.1)));
            return new Range(a, b, step);
        }
        a = clamp(round(Math.floor(a / step + 1e-9) * step));
        b = clamp(round(Math.ceil(b / step - 1e-9) * step));
        return new Range(a, b, step);
    }

    private double clamp(double v) {
        return Math.max(min, Math.min(max, v));
    }

    /** The 1, 2 or 5 × 10^k nearest above {@code raw} (raw > 0). */
    static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        double n = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10;
        return round(n * p);
    }

    /** Drops the binary noise of decimal steps (0.30000000000000004 → 0.3). */
    private static double round(double v) {
        return new BigDecimal(v).round(MathContext.DECIMAL64).stripTrailingZeros().doubleValue();
    }

    /**
     * A tick label: the value with as many decimals as it has (0.25, 15, 1200), whole numbers only on an
     * integer axis (other positions get no label, which makes XChart pick a coarser step).
     */
    public String label(double v) {
        if (integer && Math.abs(v - Math.rint(v)) > 1e-9) return "";
        if (Math.abs(v) < 1e-12) return "0";
        BigDecimal d = new BigDecimal(v).round(new MathContext(8)).stripTrailingZeros();
        return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
    }
}
