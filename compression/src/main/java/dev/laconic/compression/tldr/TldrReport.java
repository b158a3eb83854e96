package dev.laconic.compression.tldr;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.compression.plot.Axis;
import dev.laconic.compression.plot.Plot;
import dev.laconic.training.RunDir;

import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a TL;DR run shows of itself, rewritten after every evaluation:
 * <pre>
 *   RUN_DIR/summary.json   the reference points, the selection rule and the checkpoint it picks
 *                          (so far, or final: "completed": true), the last evaluation
 *   RUN_DIR/weights.png    w_short and w_long over steps (the weights each interval drew with, 0.5 at first);
 *   RUN_DIR/weights.svg    dev accuracy and dev tokens over steps with both reference points, the accuracy bar
 *                          of the selection and the selected checkpoint
 * </pre>
 */
public final class TldrReport {
    private TldrReport() {}

    public static void write(RunDir run, References refs, TldrTrainer.Options o, List<Evaluation> history, Selection.Choice choice,
                             boolean completed) throws IOException {
        RunDir.writeAtomically(run.dir().resolve("summary.json"), RunDir.JSON.writeValueAsBytes(summary(run, refs, o, history, choice, completed)));
        if (!history.isEmpty()) Plot.write(run.dir().resolve("weights.png"), Axis.count("optimizer step"), panels(refs, o, history, choice));
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

    static List<Plot.Panel> panels(References refs, TldrTrainer.Options o, List<Evaluation> history, Selection.Choice choice) {
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
        List<Plot.Series> accSeries = new ArrayList<>(List.of(
                Plot.Series.marked("dev accuracy", evalSteps, acc),
                Plot.Series.level("long ref", refs.longRef().accuracy()),
                Plot.Series.level("short ref", refs.shortRef().accuracy()),
                Plot.Series.level("bar (1-tol)·acc_L", Selection.threshold(refs.longRef().accuracy(), o.tolerance()))));
        List<Plot.Series> tokSeries = new ArrayList<>(List.of(
                Plot.Series.marked("dev tokens", evalSteps, tok),
                Plot.Series.level("long ref", refs.longRef().tokens()),
                Plot.Series.level("short ref", refs.shortRef().tokens())));
        if (choice != null) {
            Evaluation c = choice.evaluation();
            String label = (choice.eligible() ? "selected" : "fallback") + ": step " + c.step();
            // black in both panels (the palette would give it another colour in each)
            accSeries.add(Plot.Series.points(label, new double[]{c.step()}, new double[]{c.accuracy()}).in(Color.BLACK));
            tokSeries.add(Plot.Series.points(label, new double[]{c.step()}, new double[]{c.tokens()}).in(Color.BLACK));
        }
        return List.of(
                new Plot.Panel("mixture weights (" + (o.dynamic() ? "dynamic" : "static") + ")", Axis.fraction("w"),
                        List.of(Plot.Series.line("w_short (System-1)", steps, wShort), Plot.Series.line("w_long (System-2)", steps, wLong))),
                new Plot.Panel("dev accuracy", Axis.fraction("accuracy"), accSeries),
                new Plot.Panel("dev completion tokens", Axis.nonNegative("tokens"), tokSeries));
    }
}
