package dev.laconic.cli;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The library's field names become the command's flags in its messages, and nothing else changes. */
class FlagsTest {
    static final Map<String, String> RL = CompressRlCommand.FLAGS;

    @Test
    void aLeadingFieldBecomesItsFlag() {
        assertEquals("--alpha must be in [0, 1), got 1.0", Flags.reword("alpha must be in [0, 1), got 1.0", RL));
        assertEquals("--gen-batch must be ≥ 1, got 0", Flags.reword("batch must be ≥ 1, got 0", RL));
        assertEquals("--save-every and --keep-checkpoints must be ≥ 0", Flags.reword("saveEvery and keep must be ≥ 0", RL));
        assertEquals("--eval: none", Flags.reword("eval problems: none", RL));
    }

    @Test
    void aCamelCaseFieldBecomesItsFlagAnywhereAndPlainWordsStay() {
        String cut = "rollout 1: all 6 samples were cut at maxTokens 3 before ending with EOS. Raise maxTokens";
        assertEquals("rollout 1: all 6 samples were cut at --max-tokens 3 before ending with EOS. Raise --max-tokens", Flags.reword(cut, RL));
        assertEquals("no alpha here: 6 samples, batch", Flags.reword("no alpha here: 6 samples, batch", RL));
        assertEquals("give --steps or --minutes", Flags.reword("steps = 0 needs minutes > 0", GymCommand.Pretrain.FLAGS));
    }

    @Test
    void namedRethrowsUserFaultsReworded() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Flags.named(RL, () -> {
            throw new IllegalArgumentException("clipEps must be in (0, 1), got 2.0");
        }));
        assertEquals("--clip-eps must be in (0, 1), got 2.0", e.getMessage());
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> Flags.named(RL, () -> {
            throw new IllegalStateException("cut at maxTokens 3");
        }));
        assertEquals("cut at --max-tokens 3", s.getMessage());
        IllegalStateException same = new IllegalStateException("nothing to reword");
        assertSame(same, assertThrows(IllegalStateException.class, () -> Flags.named(RL, () -> { throw same; })));
        assertTrue(assertThrows(UnsupportedOperationException.class, () -> Flags.named(RL, () -> {
            throw new UnsupportedOperationException("alpha");
        })).getMessage().equals("alpha"), "only user faults are reworded");
    }
}
