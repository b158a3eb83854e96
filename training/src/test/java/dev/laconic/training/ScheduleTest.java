package dev.laconic.training;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ScheduleTest {
    /*
     * From transformers 5.18 (optimizer lr before each of 12 steps, base lr 2e-3):
     *   get_cosine_schedule_with_warmup(opt, 3, 10), get_constant_schedule_with_warmup(opt, 3),
     *   get_cosine_schedule_with_warmup(opt, 0, 7)
     */
    static final double[] COSINE_3_10 = {0.0, 0.0006666666666666666, 0.0013333333333333333, 0.002, 0.001900968867902419,
            0.0016234898018587336, 0.0012225209339563144, 0.0007774790660436857, 0.0003765101981412665, 9.903113209758097e-05};
    static final double[] WARMUP_3 = {0.0, 0.0006666666666666666, 0.0013333333333333333, 0.002, 0.002, 0.002, 0.002};
    static final double[] COSINE_0_7 = {0.002, 0.001900968867902419, 0.0016234898018587336, 0.0012225209339563144,
            0.0007774790660436857, 0.0003765101981412665, 9.903113209758097e-05};

    static void check(double[] expected, Schedule s) {
        for (int k = 0; k < expected.length; k++) assertEquals(expected[k], s.lr(k), 1e-15, "step " + k);
    }

    @Test
    void matchesTransformersSchedules() {
        check(COSINE_3_10, new Schedule(Schedule.Kind.COSINE, 2e-3, 3, 10));
        check(WARMUP_3, new Schedule(Schedule.Kind.WARMUP, 2e-3, 3, 7));
        check(COSINE_0_7, new Schedule(Schedule.Kind.COSINE, 2e-3, 0, 7));
        Schedule c = new Schedule(Schedule.Kind.CONSTANT, 2e-3, 5, 7);
        for (int k = 0; k < 7; k++) assertEquals(2e-3, c.lr(k));
    }

    @Test
    void parsesNamesAndRejectsBadValues() {
        assertEquals(Schedule.Kind.WARMUP, Schedule.Kind.parse("warmup"));
        assertEquals(Schedule.Kind.COSINE, Schedule.Kind.parse("Cosine"));
        assertThrows(IllegalArgumentException.class, () -> Schedule.Kind.parse("linear"));
        assertThrows(IllegalArgumentException.class, () -> new Schedule(Schedule.Kind.CONSTANT, -1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Schedule(Schedule.Kind.CONSTANT, Double.NaN, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Schedule(Schedule.Kind.CONSTANT, 1e-3, 0, 0));
    }
}
