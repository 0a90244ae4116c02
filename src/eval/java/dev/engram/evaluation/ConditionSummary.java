package dev.engram.evaluation;

import java.util.List;

/**
 * The paper's three metrics over the probes of one condition: MRR (mean of 1 / gold rank), mean gold probability and
 * mean gold log-probability; and each as a % decrease from the unintervened model.
 */
public record ConditionSummary(String condition, int probes, double mrr, double probability, double logProbability,
        double mrrDecrease, double probabilityDecrease, double logProbabilityDecrease) {

    public static ConditionSummary of(String condition, List<GoldMetrics> metrics, List<GoldMetrics> unintervened) {
        double mrr = mean(metrics, GoldMetrics::reciprocalRank);
        double p = mean(metrics, GoldMetrics::probability);
        double lp = mean(metrics, GoldMetrics::logProbability);
        double mrr0 = mean(unintervened, GoldMetrics::reciprocalRank);
        double p0 = mean(unintervened, GoldMetrics::probability);
        double lp0 = mean(unintervened, GoldMetrics::logProbability);
        // % decrease = (before − after) / |before|; for the (negative) log-probability a drop is a positive decrease
        return new ConditionSummary(condition, metrics.size(), mrr, p, lp, 100 * (mrr0 - mrr) / mrr0,
                100 * (p0 - p) / p0, 100 * (lp0 - lp) / Math.abs(lp0));
    }

    private static double mean(List<GoldMetrics> metrics, java.util.function.ToDoubleFunction<GoldMetrics> f) {
        return metrics.stream().mapToDouble(f).average().orElse(Double.NaN);
    }
}
