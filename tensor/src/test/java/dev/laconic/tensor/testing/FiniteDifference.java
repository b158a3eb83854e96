package dev.laconic.tensor.testing;

import dev.laconic.tensor.DType;
import dev.laconic.tensor.Tensor;

import java.util.function.DoubleSupplier;

/**
 * Numerical gradients of a scalar objective, for checking hand-written backwards.
 *
 * <p>The usual set-up: an op y = f(x) and a fixed random r, objective L = Σ r·y; then dL/dx is
 * exactly what the backward computes when given dy = r. The objective is a {@link DoubleSupplier}
 * that reads the (perturbed) input in place, so any op, or a chain of ops, can be checked.
 *
 * <p>In f64 ({@link #gradient(double[], DoubleSupplier, double)}) the five-point stencil
 * (−L(x+2h) + 8L(x+h) − 8L(x−h) + L(x−2h)) / 12h has truncation error O(h⁴·L⁽⁵⁾) and rounding
 * error ≈ ε·|L|/h; with h = 1e-3 both are ≈ 1e-12 for O(1) inputs, so an analytic gradient can be
 * held to ~1e-8 relative. On F32 tensors ({@link #gradient(Tensor, int[], DoubleSupplier, double)})
 * the forward itself is rounded to ~1e-7 relative, so use h ≈ 1e-2 and a loose tolerance (~1e-2).
 */
public final class FiniteDifference {
    private FiniteDifference() {}

    /** dL/dx for every element of x (five-point stencil, step h); x is restored afterwards. */
    public static double[] gradient(double[] x, DoubleSupplier objective, double h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double x0 = x[i];
            x[i] = x0 + 2 * h; double p2 = objective.getAsDouble();
            x[i] = x0 + h;     double p1 = objective.getAsDouble();
            x[i] = x0 - h;     double m1 = objective.getAsDouble();
            x[i] = x0 - 2 * h; double m2 = objective.getAsDouble();
            x[i] = x0;
            g[i] = (-p2 + 8 * p1 - 8 * m1 + m2) / (12 * h);
        }
        return g;
    }

    /**
     * dL/dt[i] for the listed flat indices of an F32 heap tensor t, by central differences on the
     * representable neighbours fl(t[i] ± h) (the step actually taken is used as the denominator);
     * t is restored afterwards.
     */
    public static double[] gradient(Tensor t, int[] indices, DoubleSupplier objective, double h) {
        if (t.dtype() != DType.F32) throw new IllegalArgumentException("finite differences need an F32 tensor, got " + t);
        double[] g = new double[indices.length];
        for (int n = 0; n < indices.length; n++) {
            int i = indices[n];
            float x0 = t.getFloat(i), xp = (float) (x0 + h), xm = (float) (x0 - h);
            t.setFloat(i, xp); double lp = objective.getAsDouble();
            t.setFloat(i, xm); double lm = objective.getAsDouble();
            t.setFloat(i, x0);
            g[n] = (lp - lm) / ((double) xp - xm);
        }
        return g;
    }

    /** All flat indices 0..n-1. */
    public static int[] all(long n) {
        int[] idx = new int[Math.toIntExact(n)];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        return idx;
    }

    /** The elements of a at the given flat indices. */
    public static double[] pick(double[] a, int[] indices) {
        double[] p = new double[indices.length];
        for (int n = 0; n < indices.length; n++) p[n] = a[indices[n]];
        return p;
    }

    /** Σ r·y, the linear objective that turns a vector output into a scalar. */
    public static double dot(double[] r, double[] y) {
        if (r.length != y.length) throw new IllegalArgumentException("dot of " + r.length + " and " + y.length + " elements");
        double s = 0;
        for (int i = 0; i < r.length; i++) s += r[i] * y[i];
        return s;
    }

    /** Σ r·y over the elements of a float tensor, in double. */
    public static double dot(double[] r, Tensor y) {
        return dot(r, TestTensors.toDouble(y));
    }

    /**
     * Asserts analytic ≈ numeric with |a − n| ≤ rtol·|n| + atol·max|n|: the absolute part is scaled
     * by the gradient's largest entry, so entries that are nearly zero by cancellation do not demand
     * a precision the finite differences cannot give.
     */
    public static void assertGradient(double[] numeric, double[] analytic, double rtol, double atol, String what) {
        double scale = 0;
        for (double v : numeric) scale = Math.max(scale, Math.abs(v));
        TestTensors.assertClose(numeric, analytic, atol * Math.max(scale, 1e-300), rtol, what + " (numeric vs analytic)");
    }
}
