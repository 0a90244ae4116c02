package dev.engram.verification;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Many (prompt, continuation) pairs, registered once and scored on any model in a single packed forward pass. Pair k
 * runs as prompt + continuation[..n−1]; its logits are kept from the prompt's last position on: row i predicts
 * continuation token i (row 0 is the next-token distribution after the prompt).
 */
public final class ScoredPrompts {
    private final List<int[]> sequences = new ArrayList<>();
    private final List<Integer> firstRows = new ArrayList<>();

    /** One model's logits for every pair: {@code rows(k)[i]} is row i of pair k. */
    public record Scores(List<float[][]> byPair) {
        public float[][] rows(int pair) {
            return byPair.get(pair);
        }

        /** ROME's target probability in log space: mean_i log p(target_i | prompt, target_<i), for pair {@code pair}. */
        public double meanLogProb(int pair, int[] target) {
            float[][] rows = rows(pair);
            double sum = 0;
            for (int i = 0; i < target.length; i++) {
                sum += new NextTokenDistribution(rows[i]).logProbability(target[i]);
            }
            return sum / target.length;
        }
    }

    /**
     * Registers a pair; returns its index. An empty continuation asks only for the distribution after the prompt. A pair
     * that runs the same tokens as one registered before (a one-token target_new and target_true after one prompt) gets
     * that pair's index, so the two read the very same rows.
     */
    public int add(int[] prompt, int[] continuation) {
        int extra = Math.max(0, continuation.length - 1);
        int[] tokens = Arrays.copyOf(prompt, prompt.length + extra);
        System.arraycopy(continuation, 0, tokens, prompt.length, extra);
        for (int k = 0; k < sequences.size(); k++) {
            if (firstRows.get(k) == prompt.length - 1 && Arrays.equals(sequences.get(k), tokens)) {
                return k;
            }
        }
        sequences.add(tokens);
        firstRows.add(prompt.length - 1);
        return sequences.size() - 1;
    }

    /** Runs every registered pair on {@code model}. */
    public Scores run(Model model) {
        return run(model, k -> null);
    }

    /** The tokens pair {@code pair} runs (its prompt and all but the last continuation token). */
    int[] tokens(int pair) {
        return sequences.get(pair).clone();
    }

    /**
     * Runs the registered pairs on {@code model} except those whose rows {@code known} already gives (not null for
     * them): the rest in one packed pass.
     */
    public Scores run(Model model, IntFunction<float[][]> known) {
        List<float[][]> rows = new ArrayList<>();
        List<Integer> toRun = new ArrayList<>();
        for (int k = 0; k < sequences.size(); k++) {
            float[][] given = known.apply(k);
            rows.add(given);
            if (given == null) {
                toRun.add(k);
            }
        }
        if (toRun.isEmpty()) {
            return new Scores(rows);
        }
        // pairs that share a prompt (target_new and target_true after it) run its tokens once
        PackedSequences packed = PackedSequences.sharingPrefixes(toRun.stream().map(sequences::get).toList());
        List<Long> wanted = new ArrayList<>();
        for (int j = 0; j < toRun.size(); j++) {
            int k = toRun.get(j);
            for (int i = firstRows.get(k); i < sequences.get(k).length; i++) {
                wanted.add((long) packed.row(j, i));
            }
        }
        // the unembedding runs only for the rows scored here, not for every prompt token
        try (Trace trace = ForwardPass.of(model).logitsAt(packed, wanted.stream().mapToLong(Long::longValue).toArray())) {
            int vocab = (int) trace.logits().getShape().get(1);
            float[] flat = trace.logits().toFloatArray();
            int at = 0;
            for (int k : toRun) {
                float[][] mine = new float[sequences.get(k).length - firstRows.get(k)][];
                for (int i = 0; i < mine.length; i++) {
                    mine[i] = Arrays.copyOfRange(flat, at * vocab, (at + 1) * vocab);
                    at++;
                }
                rows.set(k, mine);
            }
        }
        return new Scores(rows);
    }
}
