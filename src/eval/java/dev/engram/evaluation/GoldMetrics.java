package dev.engram.evaluation;

import dev.engram.inference.NextTokenDistribution;

/** The gold token's standing in one next-token distribution: its rank (1 = top), probability and log-probability. */
public record GoldMetrics(int rank, double probability, double logProbability) {

    public static GoldMetrics of(NextTokenDistribution next, int gold) {
        return new GoldMetrics(next.rank(gold), next.probability(gold), next.logProbability(gold));
    }

    /** 1 / rank: averaged over probes, the mean reciprocal rank (MRR). */
    public double reciprocalRank() {
        return 1.0 / rank;
    }
}
