package dev.engram.verification;

import java.util.ArrayList;
import java.util.List;

/**
 * The gate rules: given what verification measured, whether each gate passes under {@link GateThresholds}, and the
 * figures a reader needs to see why. Measures nothing itself.
 */
final class GateRules {
    private final GateThresholds thresholds;

    GateRules(GateThresholds thresholds) {
        this.thresholds = thresholds;
    }

    /** Each gate's verdict on a measured report, with the figures it was decided on. */
    List<GateResult> decide(VerificationReport r) {
        List<GateResult> out = new ArrayList<>();
        PromptCheck e = r.efficacy();
        out.add(new GateResult(GateResult.Gate.EFFICACY, e.success(),
                String.format("P(new) %.4f vs P(true) %.4f on the prompt (rank of new: %d)", e.newProb(), e.trueProb(),
                        e.newRank())));
        double ps = r.paraphraseSuccess();
        out.add(new GateResult(GateResult.Gate.GENERALISATION, ps >= thresholds.minParaphraseSuccess(),
                r.paraphrases().isEmpty() ? "no paraphrases given: not measured"
                        : String.format("%d of %d paraphrases give P(new) > P(true) (need %.0f%%)",
                                r.paraphrases().stream().filter(PromptCheck::success).count(), r.paraphrases().size(),
                                100 * thresholds.minParaphraseSuccess())));
        long neighbourFlips = r.neighbours().stream().filter(NeighbourCheck::flipped).count();
        double maxKl = r.neighbours().stream().mapToDouble(NeighbourCheck::kl).max().orElse(0);
        long sentinelFlips = r.sentinels().stream().filter(s -> !s.kept()).count();
        boolean specific = neighbourFlips <= thresholds.maxNeighbourFlips() && maxKl <= thresholds.maxNeighbourKl()
                && sentinelFlips <= thresholds.maxSentinelFlips();
        out.add(new GateResult(GateResult.Gate.SPECIFICITY, specific, String.format(
                "%d of %d neighbours lost their answer (max %d); max neighbour KL %.4f nats (max %.4f); "
                        + "%d of %d sentinels changed top-1 (max %d)",
                neighbourFlips, r.neighbours().size(), thresholds.maxNeighbourFlips(), maxKl,
                thresholds.maxNeighbourKl(), sentinelFlips, r.sentinels().size(), thresholds.maxSentinelFlips())));
        Fluency f = r.fluency();
        out.add(new GateResult(GateResult.Gate.FLUENCY, f.relativeDrop() <= thresholds.maxFluencyDrop(),
                String.format("n-gram entropy %.3f vs parent %.3f (drop %.1f%%, max %.1f%%)", f.editedEntropy(),
                        f.parentEntropy(), 100 * f.relativeDrop(), 100 * thresholds.maxFluencyDrop())));
        return out;
    }
}
