package dev.engram.verification;

/**
 * When an edit passes verification. Every value is checked when built.
 *
 * @param minParaphraseSuccess share of paraphrases on which P(new) > P(true) must hold (generalisation)
 * @param maxNeighbourFlips    neighbours (the caller's and the derived relation neighbours) that may lose their
 *                             expected top-1 answer (counted only where the parent had it at top-1)
 * @param maxNeighbourKl       largest KL(parent ‖ edited), in nats, allowed on any neighbour's next-token distribution
 * @param maxSentinelFlips     sentinel prompts that may change their top-1 token
 * @param maxFluencyDrop       largest relative drop of the greedy continuation's n-gram entropy against the parent's
 * @param fluencyTokens        how many tokens the fluency continuation generates
 * @param maxSameObjectLosses  derived same-object neighbours that may lose P(true) > P(new) (counted only where the
 *                             parent had it)
 * @param earlierEditChecks    how many edits accepted earlier on the lineage are re-scored ({@link EarlierEdits})
 * @param maxEarlierEditsUndone re-scored earlier edits that may lose P(new) > P(true) (counted only where the parent
 *                             had it)
 */
public record GateThresholds(double minParaphraseSuccess, int maxNeighbourFlips, double maxNeighbourKl,
        int maxSentinelFlips, double maxFluencyDrop, int fluencyTokens, int maxSameObjectLosses,
        int earlierEditChecks, int maxEarlierEditsUndone) {

    /** The most earlier edits one verification re-scores. */
    public static final int MAX_EARLIER_EDIT_CHECKS = 256;

    public GateThresholds {
        if (!Double.isFinite(minParaphraseSuccess) || minParaphraseSuccess < 0 || minParaphraseSuccess > 1) {
            throw new IllegalArgumentException("thresholds.min_paraphrase_success: must be in [0, 1], got "
                    + minParaphraseSuccess);
        }
        if (maxNeighbourFlips < 0) {
            throw new IllegalArgumentException("thresholds.max_neighbour_flips: must not be negative");
        }
        if (!Double.isFinite(maxNeighbourKl) || maxNeighbourKl < 0) {
            throw new IllegalArgumentException("thresholds.max_neighbour_kl: must be a non-negative finite number, got "
                    + maxNeighbourKl);
        }
        if (maxSentinelFlips < 0) {
            throw new IllegalArgumentException("thresholds.max_sentinel_flips: must not be negative");
        }
        if (!Double.isFinite(maxFluencyDrop) || maxFluencyDrop < 0 || maxFluencyDrop > 1) {
            throw new IllegalArgumentException("thresholds.max_fluency_drop: must be in [0, 1], got " + maxFluencyDrop);
        }
        if (maxSameObjectLosses < 0) {
            throw new IllegalArgumentException("thresholds.max_same_object_losses: must not be negative");
        }
        if (earlierEditChecks < 0 || earlierEditChecks > MAX_EARLIER_EDIT_CHECKS) {
            throw new IllegalArgumentException("thresholds.earlier_edit_checks: must be between 0 and "
                    + MAX_EARLIER_EDIT_CHECKS + ", got " + earlierEditChecks);
        }
        if (maxEarlierEditsUndone < 0) {
            throw new IllegalArgumentException("thresholds.max_earlier_edits_undone: must not be negative");
        }
        if (fluencyTokens < 1 || fluencyTokens > 256) {
            throw new IllegalArgumentException("thresholds.fluency_tokens: must be between 1 and 256, got "
                    + fluencyTokens);
        }
    }

    /**
     * Paraphrases: half must flip; neighbours, same-object neighbours and sentinels: none may flip; KL ≤ 0.5 nats;
     * fluency within 15%; 16 earlier edits re-scored, none may be undone.
     */
    public static GateThresholds defaults() {
        return new GateThresholds(0.5, 0, 0.5, 0, 0.15, 32, 0, 16, 0);
    }
}
