package dev.laconic.compression.plot;

import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;

/** Where short point labels go so that none covers another label or a marker: greedy, nearest free spot first. */
final class Labels {
    /** Directions tried around a point, the upper right first (where a reader looks for a label). */
    private static final double[][] DIRECTIONS = {{1, -1}, {1, 1}, {-1, -1}, {-1, 1}, {0, -1.3}, {0, 1.3}, {1.3, 0}, {-1.3, 0}};
    private static final double[] DISTANCES = {1, 1.6, 2.4, 3.4, 4.8};

    private Labels() {}

    /**
     * Label centres for points at pixel positions {@code px[i] = {x, y}} (y downwards), label i being a box of
     * ±{@code halfWidth[i]} × ±{@code halfHeight} around its centre, at about {@code offset} pixels from its point,
     * inside {@code plot}. Each label takes the first spot that overlaps no placed label and no marker (±{@code marker}
     * pixels around every point); where every spot overlaps something, the one overlapping least.
     */
    static List<double[]> place(double[][] px, double[] halfWidth, double halfHeight, double offset, double marker, Rectangle2D plot) {
        List<Rectangle2D> taken = new ArrayList<>();
        for (double[] p : px) taken.add(new Rectangle2D.Double(p[0] - marker, p[1] - marker, 2 * marker, 2 * marker));
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < px.length; i++) {
            double[] best = null;
            int bestHits = Integer.MAX_VALUE;
            search:
            for (double d : DISTANCES)
                for (double[] dir : DIRECTIONS) {
                    double cx = px[i][0] + dir[0] * offset * d, cy = px[i][1] + dir[1] * offset * d;
                    Rectangle2D box = new Rectangle2D.Double(cx - halfWidth[i], cy - halfHeight, 2 * halfWidth[i], 2 * halfHeight);
                    int hits = plot.contains(box) ? 0 : 1;
                    for (Rectangle2D t : taken) if (t.intersects(box)) hits++;
                    if (hits < bestHits) {
                        bestHits = hits;
                        best = new double[]{cx, cy};
                        if (hits == 0) break search;
                    }
                }
            out.add(best);
            taken.add(new Rectangle2D.Double(best[0] - halfWidth[i], best[1] - halfHeight, 2 * halfWidth[i], 2 * halfHeight));
        }
        return out;
    }

    /** Whether any two boxes of the given centres and half sizes overlap (tests). */
    static boolean overlap(List<double[]> centres, double[] halfWidth, double halfHeight) {
        for (int i = 0; i < centres.size(); i++)
            for (int j = i + 1; j < centres.size(); j++)
                if (Math.abs(centres.get(i)[0] - centres.get(j)[0]) < halfWidth[i] + halfWidth[j]
                        && Math.abs(centres.get(i)[1] - centres.get(j)[1]) < 2 * halfHeight) return true;
        return false;
    }
}
