package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each gate refuses in a test made for it, and every threshold is tried on its boundary from both sides: at the
 * threshold the gate passes, one step beyond it refuses. The reports are built by hand, so each case moves exactly one
 * measurement.
 */
class GateRulesTest {
    private static final GateThresholds T = new GateThresholds(0.5, 1, 0.5, 1, 0.15, 32, 1, 16, 1);

    @Test
    void efficacyRefusesWhenTheNewAnswerDoesNotWin() {
        assertTrue(passes(report(prompt(0.6, 0.4), List.of(), List.of(), List.of(), List.of(), List.of(), fluency(0)),
                GateResult.Gate.EFFICACY));
        assertFalse(passes(report(prompt(0.4, 0.6), List.of(), List.of(), List.of(), List.of(), List.of(), fluency(0)),
                GateResult.Gate.EFFICACY));
        assertFalse(passes(report(prompt(0.5, 0.5), List.of(), List.of(), List.of(), List.of(), List.of(), fluency(0)),
                GateResult.Gate.EFFICACY), "a tie is not a success");
    }

    @Test
    void generalisationPassesAtTheShareAndRefusesBelowIt() {
        List<PromptCheck> half = List.of(prompt(0.6, 0.4), prompt(0.4, 0.6));
        List<PromptCheck> third = List.of(prompt(0.6, 0.4), prompt(0.4, 0.6), prompt(0.4, 0.6));
        assertTrue(passes(withParaphrases(half), GateResult.Gate.GENERALISATION), "1 of 2 = 0.5 >= 0.5");
        assertFalse(passes(withParaphrases(third), GateResult.Gate.GENERALISATION), "1 of 3 < 0.5");
        VerificationReport none = withParaphrases(List.of());
        assertTrue(passes(none, GateResult.Gate.GENERALISATION));
        assertTrue(none.paraphraseSuccess().isEmpty(), "no paraphrase: PS not measured, not 1");
    }

    @Test
    void neighbourFlipsPassAtTheMaximumAndRefuseAboveIt() {
        // the caller's neighbours and the derived relation neighbours count together
        assertTrue(passes(specific(List.of(neighbour(true, 0.1)), List.of(), List.of(), List.of()), GateResult.Gate.SPECIFICITY));
        assertFalse(passes(specific(List.of(neighbour(true, 0.1)), List.of(neighbour(true, 0.1)), List.of(), List.of()),
                GateResult.Gate.SPECIFICITY));
        assertFalse(passes(specific(List.of(), List.of(neighbour(true, 0.1), neighbour(true, 0.1)), List.of(), List.of()),
                GateResult.Gate.SPECIFICITY), "derived relation neighbours alone");
    }

    @Test
    void neighbourKlPassesAtTheMaximumAndRefusesAboveIt() {
        assertTrue(passes(specific(List.of(neighbour(false, 0.5)), List.of(), List.of(), List.of()), GateResult.Gate.SPECIFICITY));
        assertFalse(passes(specific(List.of(neighbour(false, 0.5001)), List.of(), List.of(), List.of()),
                GateResult.Gate.SPECIFICITY));
        assertFalse(passes(specific(List.of(), List.of(), List.of(sameObject(false, 0.6)), List.of()),
                GateResult.Gate.SPECIFICITY), "KL on a same-object neighbour counts too");
    }

    @Test
    void sameObjectLossesPassAtTheMaximumAndRefuseAboveIt() {
        assertTrue(passes(specific(List.of(), List.of(), List.of(sameObject(true, 0.1), sameObject(false, 0.1)), List.of()),
                GateResult.Gate.SPECIFICITY));
        VerificationReport two = specific(List.of(), List.of(), List.of(sameObject(true, 0.1), sameObject(true, 0.1)),
                List.of());
        assertFalse(passes(two, GateResult.Gate.SPECIFICITY));
        assertEquals(0.0, two.sameObjectSuccess().getAsDouble());
        assertTrue(specific(List.of(), List.of(), List.of(), List.of()).sameObjectSuccess().isEmpty(),
                "no same-object neighbour found: not measured, not a success");
    }

    @Test
    void sentinelFlipsPassAtTheMaximumAndRefuseAboveIt() {
        assertTrue(passes(specific(List.of(), List.of(), List.of(), List.of(sentinel(true))), GateResult.Gate.SPECIFICITY));
        assertFalse(passes(specific(List.of(), List.of(), List.of(), List.of(sentinel(true), sentinel(true))),
                GateResult.Gate.SPECIFICITY));
    }

    @Test
    void fluencyPassesAtTheMaximumDropAndRefusesAboveIt() {
        assertTrue(passes(report(prompt(0.6, 0.4), List.of(), List.of(), List.of(), List.of(), List.of(), fluency(0.15)),
                GateResult.Gate.FLUENCY));
        assertFalse(passes(report(prompt(0.6, 0.4), List.of(), List.of(), List.of(), List.of(), List.of(), fluency(0.16)),
                GateResult.Gate.FLUENCY));
    }

    @Test
    void retentionPassesAtTheMaximumOfUndoneEarlierEditsAndRefusesAboveIt() {
        assertTrue(passes(withEarlier(List.of(earlier(true, true), earlier(true, false))), GateResult.Gate.RETENTION),
                "1 undone = max 1");
        VerificationReport two = withEarlier(List.of(earlier(true, false), earlier(true, false), earlier(true, true)));
        assertFalse(passes(two, GateResult.Gate.RETENTION), "2 undone > max 1");
        assertEquals(1 / 3.0, two.earlierEditRetention().getAsDouble(), 1e-12);
        assertTrue(passes(withEarlier(List.of(earlier(false, false), earlier(false, false), earlier(true, true))),
                GateResult.Gate.RETENTION), "an earlier edit that no longer held on the parent is not this edit's doing");
        VerificationReport none = withEarlier(List.of());
        assertTrue(passes(none, GateResult.Gate.RETENTION));
        assertTrue(none.earlierEditRetention().isEmpty(), "no earlier edit: retention not measured, not 1");
        assertTrue(new GateRules(T).decide(two).get(4).detail().startsWith("2 of 3 earlier edits"),
                "the refusal says how many earlier edits it undid");
    }

    private static boolean passes(VerificationReport r, GateResult.Gate gate) {
        return new GateRules(T).decide(r).stream().filter(g -> g.gate() == gate).findFirst().orElseThrow().passed();
    }

    private static VerificationReport withParaphrases(List<PromptCheck> paraphrases) {
        return report(prompt(0.6, 0.4), paraphrases, List.of(), List.of(), List.of(), List.of(), fluency(0));
    }

    private static VerificationReport specific(List<NeighbourCheck> given, List<NeighbourCheck> relation,
            List<NeighbourCheck> sameObject, List<SentinelCheck> sentinels) {
        return report(prompt(0.6, 0.4), List.of(), given, sameObject, relation, sentinels, fluency(0));
    }

    private static VerificationReport report(PromptCheck efficacy, List<PromptCheck> paraphrases,
            List<NeighbourCheck> neighbours, List<NeighbourCheck> sameObject, List<NeighbourCheck> relation,
            List<SentinelCheck> sentinels, Fluency fluency) {
        return new VerificationReport(efficacy, paraphrases, neighbours, sameObject, relation, sentinels, List.of(),
                fluency, List.of(), 0);
    }

    private static VerificationReport withEarlier(List<PromptCheck> earlier) {
        return new VerificationReport(prompt(0.6, 0.4), List.of(), List.of(), List.of(), List.of(), List.of(), earlier,
                fluency(0), List.of(), 0);
    }

    /** An earlier edit of the lineage: its new answer led on the parent ({@code heldBefore}), and after this edit? */
    private static PromptCheck earlier(boolean heldBefore, boolean heldAfter) {
        return new PromptCheck(new int[] {1}, heldBefore ? 0.7 : 0.2, heldBefore ? 0.2 : 0.7, heldAfter ? 0.6 : 0.3,
                heldAfter ? 0.3 : 0.6, 1, 2, List.of(), List.of());
    }

    private static PromptCheck prompt(double newProb, double trueProb) {
        return new PromptCheck(new int[] {1}, 0.1, 0.9, newProb, trueProb, 1, 2, List.of(), List.of());
    }

    /** A neighbour the parent answered at top-1; {@code flipped}: the edited model no longer does. */
    private static NeighbourCheck neighbour(boolean flipped, double kl) {
        return new NeighbourCheck(new int[] {1}, new int[] {2}, true, !flipped, kl, !flipped, true, List.of(), List.of());
    }

    /** A same-object neighbour with P(true) > P(new) on the parent; {@code lost}: not on the edited model. */
    private static NeighbourCheck sameObject(boolean lost, double kl) {
        return new NeighbourCheck(new int[] {1}, new int[] {2}, true, true, kl, !lost, true, List.of(), List.of());
    }

    private static SentinelCheck sentinel(boolean changed) {
        return new SentinelCheck("p", " a", changed ? " b" : " a", 0, List.of(), List.of());
    }

    /** Parent entropy 100, edited 100 − 100·drop (exact in doubles for whole percentages). */
    private static Fluency fluency(double drop) {
        return new Fluency("", "", 100, 100 - Math.round(100 * drop));
    }
}
