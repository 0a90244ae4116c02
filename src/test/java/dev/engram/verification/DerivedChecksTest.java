package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.inference.NextTokenDistribution;
import org.junit.jupiter.api.Test;

/**
 * Which derived prompts count as relation neighbours: the parent's top-1 must be probable (≥ 0.1) and lead its
 * runner-up by 0.5 nats; each boundary from both sides, with logits written so the numbers can be checked by hand.
 */
class DerivedChecksTest {
    /** Logits of a 1,000-token vocabulary: token 0 at {@code top}, token 1 at {@code second}, the rest at 0. */
    private static NextTokenDistribution logits(double top, double second) {
        float[] z = new float[1000];
        z[0] = (float) top;
        z[1] = (float) second;
        return new NextTokenDistribution(z);
    }

    @Test
    void theMarginIsTheLogRatioOfTheTwoMostProbableTokens() {
        assertEquals(0.7, logits(5.0, 4.3).topMargin(), 1e-6);
        assertEquals(0.0, logits(5.0, 5.0).topMargin(), 1e-6);
    }

    @Test
    void aClearProbableAnswerIsChecked() {
        // p(top) = e^8 / (e^8 + e^7.49 + 998) ≈ 0.57, margin 0.51
        assertTrue(DerivedChecks.clearAnswer(logits(8.0, 7.49)));
    }

    @Test
    void aNearTieIsNotChecked() {
        // the same but a margin of 0.49 nats
        assertFalse(DerivedChecks.clearAnswer(logits(8.0, 7.51)));
    }

    @Test
    void theConfidenceBoundaryHoldsFromBothSides() {
        // top alone above a flat 999 others: p = e^t / (e^t + 999); p = 0.1 at t = ln(111) ≈ 4.7095
        assertTrue(DerivedChecks.clearAnswer(logits(4.72, 0)));
        assertFalse(DerivedChecks.clearAnswer(logits(4.70, 0)));
    }
}
