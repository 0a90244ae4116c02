package dev.engram.bench;

import java.util.Arrays;

/** Repeated wall-clock measurements of one task after a warm-up, summarised by percentiles. */
public final class Timing {
    private Timing() {
    }

    public record Summary(int runs, double medianMs, double p10Ms, double p90Ms) {
        @Override
        public String toString() {
            return String.format("median %.2f ms (p10 %.2f, p90 %.2f; %d runs)", medianMs, p10Ms, p90Ms, runs);
        }
    }

    public static Summary measure(int warmup, int runs, Runnable task) {
        for (int i = 0; i < warmup; i++) {
            task.run();
        }
        if (runs == 0) {
            return new Summary(0, Double.NaN, Double.NaN, Double.NaN);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            task.run();
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(ms);
        return new Summary(runs, ms[runs / 2], ms[runs / 10], ms[runs * 9 / 10]);
    }
}
