package dev.engram.attribution;

import dev.engram.runtime.Cancellation;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The brute force, and the reference for every faster path: for each neuron it literally forms base + v, applies
 * the final norm (in the readout's mode) and the unembedding, and takes the log-softmax. Cost N·d·V; memory one
 * chunk of {@value #CHUNK} × V at a time, never N × V. It is also the only exact method in {@link NormMode#EXACT}.
 */
final class ExhaustiveRanking {
    static final int CHUNK = 256;

    private ExhaustiveRanking() {
    }

    /** Imp(v) = log p(w | base + v) − log p(w | base) for every neuron of every table. */
    static List<RankedNeuron> scoreAll(ValueScoring scoring, List<NeuronTable> tables) {
        List<RankedNeuron> all = new ArrayList<>();
        for (NeuronTable table : tables) {
            for (int start = 0; start < table.size(); start += CHUNK) {
                int[] indices = range(start, Math.min(table.size(), start + CHUNK));
                Cancellation.checkpoint();
                try (NDScope scope = new NDScope()) {
                    NDArray base = scoring.bases().get(table.baseIndex);
                    NDArray logits = scoring.readout().logits(ValueScoring.vectors(table, indices).add(base));
                    long[] baseRows = new long[indices.length];
                    Arrays.fill(baseRows, table.baseIndex);
                    double[] gains = scoring.gains(logits, baseRows);
                    for (int i = 0; i < indices.length; i++) {
                        all.add(new RankedNeuron(table, indices[i], gains[i]));
                    }
                }
            }
        }
        return all;
    }

    static Ranking top(ValueScoring scoring, List<NeuronTable> tables, int k) {
        List<RankedNeuron> all = scoreAll(scoring, tables);
        TopK best = new TopK(k);
        all.forEach(r -> best.offer(r.table(), r.index(), r.score()));
        return new Ranking(best.sorted(), all.size(), all.size());
    }

    static int[] range(int from, int to) {
        int[] out = new int[to - from];
        for (int i = 0; i < out.length; i++) {
            out[i] = from + i;
        }
        return out;
    }
}
