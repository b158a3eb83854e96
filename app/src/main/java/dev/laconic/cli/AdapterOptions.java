package dev.laconic.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.laconic.training.LoraConfig;
import dev.laconic.training.RunDir;
import dev.laconic.training.TrainableModel;
import dev.laconic.transformer.Model;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** What is trained, shared by train-sft, compress tldr and compress rl: every weight (--full) or LoRA adapters. */
final class AdapterOptions {
    @Spec(Spec.Target.MIXEE) CommandSpec mixee;

    @Option(names = "--full", description = "full fine-tuning (F32 master weights) instead of LoRA") boolean full;
    @Option(names = "--lora-rank", defaultValue = "16", description = "LoRA rank (default: ${DEFAULT-VALUE})") int loraRank;
    @Option(names = "--lora-alpha", description = "LoRA alpha (default: 2 × rank)") Float loraAlpha;
    @Option(names = "--lora-targets", defaultValue = "q,k,v,o,gate,up,down", split = ",",
            description = "projections to adapt (default: ${DEFAULT-VALUE})") List<String> loraTargets;

    /** rank R, alpha (default 2R, PEFT's common choice), targets q,k,v,o,gate,up,down (q_proj etc. accepted). */
    LoraConfig lora() {
        Set<String> t = new LinkedHashSet<>();
        for (String s : loraTargets) t.add(s.trim().toLowerCase(Locale.ROOT).replaceFirst("_proj$", ""));
        return new LoraConfig(loraRank, loraAlpha != null ? loraAlpha : 2f * loraRank, t);
    }

    TrainableModel trainable(Model m, long seed) {
        return full ? TrainableModel.full(m) : TrainableModel.lora(m, lora(), seed);
    }

    String label() {
        return full ? "full fine-tuning" : "LoRA";
    }

    /** Refuses LoRA options next to --full; stores mode (and the LoRA settings) in a run's config.json. */
    void putConfig(ObjectNode c) {
        var parsed = mixee == null || mixee.commandLine() == null ? null : mixee.commandLine().getParseResult();
        if (full && parsed != null)
            for (String o : List.of("--lora-rank", "--lora-alpha", "--lora-targets"))
                if (parsed.hasMatchedOption(o)) throw new IllegalArgumentException(o + " is a LoRA option; --full trains every weight");
        c.put("mode", full ? "full" : "lora");
        if (!full) {
            LoraConfig l = lora();
            c.put("lora_rank", l.rank());
            c.put("lora_alpha", l.alpha());
            c.putArray("lora_targets").addAll(LoraConfig.TARGETS.stream().filter(l.targets()::contains)
                    .map(t -> RunDir.JSON.getNodeFactory().textNode(t)).toList());
        }
    }
}
