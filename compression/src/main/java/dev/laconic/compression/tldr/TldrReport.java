package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.plot.Chart;
import dev.laconic.training.RunDir;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a TL;DR run shows of itself, rewritten after every evaluation:
 * <pre>
 *   RUN_DIR/summary.json   the reference points, the selection rule and the checkpoint it picks
 *                          (so far, or final: "completed": true), the last evaluation
 *   RUN_DIR/weights.png    w_short and w_long over steps (the weights each interval drew with, 0.5 at first);
 *                          dev accuracy and dev tokens
 *                          over steps with both reference points and the accuracy bar of the selection
 * </pre>
 */
public final class TldrReport {
    private TldrReport() {}

    public static void write(RunDir run, References refs, TldrTrainer.Options o, List<Evaluation> history, Selection.Choice choice,
                             boolean completed) throws IOException {
        RunDir.writeAtomically(run.dir().resolve("summary.json"), RunDir.JSON.writeValueAsBytes(summary(run, refs, o, history, choice, completed)));
        if (!history.isEmpty()) Chart.write(run.dir().resolve("weights.png"), "optimizer step", panels(refs, o, history, choice));
    }

    static ObjectNode summary(RunDir run, References refs, TldrTrainer.Options o, List<Evaluation> history, Selection.Choice choice,
                              boolean completed) {
        ObjectNode s = RunDir.JSON.createObjectNode();
        s.put("completed", completed);
        s.put("mode", o.dynamic() ? "dynamic" : "static");
        s.put("steps", o.training().steps());
        s.put("eval_every", o.evalEvery());
        s.put("eta", o.eta());
        s.put("smoothing", o.smoothing());
        s.set("reference", refs.json());
        s.put("tolerance", o.tolerance());
        s.put("accuracy_bar", Selection.threshold(refs.longRef().accuracy(), o.tolerance()));
        s.put("evaluations", history.size());
        if (choice != null) {
            ObjectNode c = choice.evaluation().json();
            c.put("eligible", choice.eligible());
            c.put("checkpoint", run.checkpoint(choice.evaluation().step()).toString());
            if (completed) c.put("final", run.finalDir().toString());
            c.put("token_reduction_vs_long", 1 - choice.evaluation().tokens() / refs.longRef().tokens());
            c.put("accuracy_change_vs_long", choice.evaluation().accuracy() - refs.longRef().accuracy());
            s.set("selected", c);
        } else {
            s.putNull("selected");
        }
        if (!history.isEmpty()) s.set("last", history.getLast().json());
        ArrayNode all = s.putArray("history");
        for (Evaluation e : history) all.add(e.json());
        return s;
    }

    static List<Chart.Panel> panels(References refs, TldrTrainer.Options o, List<Evaluation> history, Selection.Choice choice) {
        int n = history.size();
        // w as a step function: the weights after the evaluation at step s are the ones drawn with over (s, s + K]
        double[] steps = new double[2 * n + 1], wShort = new double[2 * n + 1], wLong = new double[2 * n + 1];
        double[] evalSteps = new double[n], acc = new double[n], tok = new double[n];
        wShort[0] = wLong[0] = 0.5;
        for (int i = 0; i < n; i++) {
            Evaluation e = history.get(i);
            steps[2 * i + 1] = steps[2 * i + 2] = evalSteps[i] = e.step();
            wShort[2 * i + 1] = wShort[2 * i];
            wLong[2 * i + 1] = wLong[2 * i];
            wShort[2 * i + 2] = e.wShort();
            wLong[2 * i + 2] = e.wLong();
            acc[i] = e.accuracy();
            tok[i] = e.tokens();
        }
        double[] span = {0, history.getLast().step()};
        List<Chart.Series> accSeries = new ArrayList<>(List.of(
                Chart.Series.line("dev accuracy", evalSteps, acc),
                Chart.Series.line("long ref", span, flat(refs.longRef().accuracy())),
                Chart.Series.line("short ref", span, flat(refs.shortRef().accuracy())),
                Chart.Series.line("bar (1-tol)·acc_L", span, flat(Selection.threshold(refs.longRef().accuracy(), o.tolerance())))));
        List<Chart.Series> tokSeries = new ArrayList<>(List.of(
                Chart.Series.line("dev tokens", evalSteps, tok),
                Chart.Series.line("long ref", span, flat(refs.longRef().tokens())),
                Chart.Series.line("short ref", span, flat(refs.shortRef().tokens()))));
        if (choice != null) {
            Evaluation c = choice.evaluation();
            String label = choice.eligible() ? "selected" : "fallback";
            accSeries.add(Chart.Series.scatter(label, new double[]{c.step()}, new double[]{c.accuracy()}, new String[]{"step " + c.step()}));
            tokSeries.add(Chart.Series.scatter(label, new double[]{c.step()}, new double[]{c.tokens()}, new String[]{"step " + c.step()}));
        }
        return List.of(
                new Chart.Panel("mixture weights (" + (o.dynamic() ? "dynamic" : "static") + ")", "w",
                        List.of(Chart.Series.line("w_short (System-1)", steps, wShort), Chart.Series.line("w_long (System-2)", steps, wLong))),
                new Chart.Panel("dev accuracy", "accuracy", accSeries),
                new Chart.Panel("dev completion tokens", "tokens", tokSeries));
    }

    private static double[] flat(double v) {
        return new double[]{v, v};
    }
}
