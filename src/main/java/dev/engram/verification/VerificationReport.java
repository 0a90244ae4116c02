package dev.engram.verification;

import java.util.List;

/** Every number verification measured, and which gates passed. Nothing may be committed unless {@link #passed()}. */
public record VerificationReport(PromptCheck efficacy, List<PromptCheck> paraphrases, List<NeighbourCheck> neighbours,
        List<SentinelCheck> sentinels, Fluency fluency, List<GateResult> gates, long millis) {

    public boolean passed() {
        return gates.stream().allMatch(GateResult::passed);
    }

    public List<GateResult.Gate> failedGates() {
        return gates.stream().filter(g -> !g.passed()).map(GateResult::gate).toList();
    }

    /** Share of paraphrases with P(new) > P(true) (ROME's PS for one record); 1 when there are none. */
    public double paraphraseSuccess() {
        return paraphrases.isEmpty() ? 1
                : paraphrases.stream().filter(PromptCheck::success).count() / (double) paraphrases.size();
    }

    /** Share of neighbours with P(expected) > P(new) (ROME's NS for one record); 1 when there are none. */
    public double neighbourhoodSuccess() {
        return neighbours.isEmpty() ? 1
                : neighbours.stream().filter(NeighbourCheck::expectedOverNew).count() / (double) neighbours.size();
    }
}
