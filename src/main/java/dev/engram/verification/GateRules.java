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
        long paraphrasesPassed = r.paraphrases().stream().filter(PromptCheck::success).count();
        out.add(new GateResult(GateResult.Gate.GENERALISATION,
                r.paraphraseSuccess().orElse(1) >= thresholds.minParaphraseSuccess(),
                r.paraphrases().isEmpty() ? "no paraphrases given: not measured"
                        : String.format("%d of %d paraphrases give P(new) > P(true) (need %.0f%%)", paraphrasesPassed,
                                r.paraphrases().size(), 100 * thresholds.minParaphraseSuccess())));
        List<NeighbourCheck> relation = new ArrayList<>(r.neighbours());
        relation.addAll(r.relationNeighbours());
        long neighbourFlips = relation.stream().filter(NeighbourCheck::flipped).count();
        List<NeighbourCheck> all = new ArrayList<>(relation);
        all.addAll(r.sameObject());
        double maxKl = all.stream().mapToDouble(NeighbourCheck::kl).max().orElse(0);
        long sameObjectLosses = r.sameObject().stream().filter(NeighbourCheck::lostToNew).count();
        long sentinelFlips = r.sentinels().stream().filter(s -> !s.kept()).count();
        boolean specific = neighbourFlips <= thresholds.maxNeighbourFlips() && maxKl <= thresholds.maxNeighbourKl()
                && sameObjectLosses <= thresholds.maxSameObjectLosses()
                && sentinelFlips <= thresholds.maxSentinelFlips();
        out.add(new GateResult(GateResult.Gate.SPECIFICITY, specific, String.format(
                "%d of %d same-object neighbours (found by the gate) lost P(true) > P(new) (max %d); "
                        + "%d of %d neighbours (%d given, %d found by the gate) lost their answer (max %d); "
                        + "max neighbour KL %.4f nats (max %.4f); %d of %d sentinels changed top-1 (max %d)",
                sameObjectLosses, r.sameObject().size(), thresholds.maxSameObjectLosses(), neighbourFlips,
                relation.size(), r.neighbours().size(), r.relationNeighbours().size(), thresholds.maxNeighbourFlips(),
                maxKl, thresholds.maxNeighbourKl(), sentinelFlips, r.sentinels().size(),
                thresholds.maxSentinelFlips())));
        Fluency f = r.fluency();
        out.add(new GateResult(GateResult.Gate.FLUENCY, f.relativeDrop() <= thresholds.maxFluencyDrop(),
                String.format("n-gram entropy %.3f vs parent %.3f (drop %.1f%%, max %.1f%%)", f.editedEntropy(),
                        f.parentEntropy(), 100 * f.relativeDrop(), 100 * thresholds.maxFluencyDrop())));
        int undone = r.undoneEarlierEdits().size();
        out.add(new GateResult(GateResult.Gate.RETENTION, undone <= thresholds.maxEarlierEditsUndone(),
                r.earlierEdits().isEmpty() ? "no earlier edit on this lineage to re-score: not measured"
                        : String.format("%d of %d earlier edits of the lineage (re-scored sample) no longer give "
                                + "P(new) > P(true) (max %d)", undone, r.earlierEdits().size(),
                                thresholds.maxEarlierEditsUndone())));
        return out;
    }
}
