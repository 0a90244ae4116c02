package dev.engram.verification;

import java.util.List;
import java.util.OptionalDouble;

/**
 * Every number verification measured, and which gates passed. Nothing may be committed unless {@link #passed()}.
 *
 * @param neighbours         the caller's neighbours
 * @param sameObject         derived same-object neighbours ({@link DerivedChecks}): other subjects the parent answers
 *                           with target_true
 * @param relationNeighbours derived relation neighbours: the template with other subjects and the parent's own answers
 * @param earlierEdits       edits accepted earlier on the lineage (a bounded sample, {@link EarlierEdits}), re-scored:
 *                           each must keep P(new) > P(true) on its own prompt
 */
public record VerificationReport(PromptCheck efficacy, List<PromptCheck> paraphrases, List<NeighbourCheck> neighbours,
        List<NeighbourCheck> sameObject, List<NeighbourCheck> relationNeighbours, List<SentinelCheck> sentinels,
        List<PromptCheck> earlierEdits, Fluency fluency, List<GateResult> gates, long millis) {

    public boolean passed() {
        return gates.stream().allMatch(GateResult::passed);
    }

    public List<GateResult.Gate> failedGates() {
        return gates.stream().filter(g -> !g.passed()).map(GateResult::gate).toList();
    }

    /** Share of paraphrases with P(new) > P(true) (ROME's PS for one record); empty when none was given. */
    public OptionalDouble paraphraseSuccess() {
        return share(paraphrases.stream().map(PromptCheck::success).toList());
    }

    /** Share of the caller's neighbours with P(expected) > P(new); empty when none was given. */
    public OptionalDouble neighbourhoodSuccess() {
        return share(neighbours.stream().map(NeighbourCheck::expectedOverNew).toList());
    }

    /**
     * CounterFact's NS for this edit over the derived same-object neighbours: the share with P(true) > P(new); empty
     * when the pool gave none.
     */
    public OptionalDouble sameObjectSuccess() {
        return share(sameObject.stream().map(NeighbourCheck::expectedOverNew).toList());
    }

    /** Share of derived relation neighbours that kept the parent's top-1; empty when the pool gave none. */
    public OptionalDouble relationSuccess() {
        return share(relationNeighbours.stream().map(n -> !n.flipped()).toList());
    }

    /** Share of the re-scored earlier edits that still give P(new) > P(true); empty when there was none to re-score. */
    public OptionalDouble earlierEditRetention() {
        return share(earlierEdits.stream().map(PromptCheck::success).toList());
    }

    /** Earlier edits that held on the parent and no longer do on the edited model: what this edit undid. */
    public List<PromptCheck> undoneEarlierEdits() {
        return earlierEdits.stream().filter(e -> e.newProbBefore() > e.trueProbBefore() && !e.success()).toList();
    }

    private static OptionalDouble share(List<Boolean> outcomes) {
        return outcomes.isEmpty() ? OptionalDouble.empty()
                : OptionalDouble.of(outcomes.stream().filter(b -> b).count() / (double) outcomes.size());
    }
}
