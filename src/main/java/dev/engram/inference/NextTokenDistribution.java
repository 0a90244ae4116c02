package dev.engram.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.IntFunction;

/** softmax over one position's logits, computed in double with the max subtracted. */
public final class NextTokenDistribution {
    private final float[] logits;
    private final double logNormaliser;

    public NextTokenDistribution(float[] logits) {
        this.logits = logits;
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        // log Σ_v exp(z_v)
        this.logNormaliser = max + Math.log(sum);
    }

    /** log p(w) = z_w − log Σ_v exp(z_v). */
    public double logProbability(int token) {
        return logits[token] - logNormaliser;
    }

    public double probability(int token) {
        return Math.exp(logProbability(token));
    }

    /** The most probable token; ties go to the lower id. */
    public int argmax() {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The k most probable tokens, best first (ties to the lower id), without sorting the whole vocabulary. */
    public List<TokenProbability> topK(int k, IntFunction<String> text) {
        PriorityQueue<Integer> heap = new PriorityQueue<>((a, b) -> logits[a] != logits[b]
                ? Float.compare(logits[a], logits[b]) : Integer.compare(b, a));
        for (int i = 0; i < logits.length; i++) {
            // a full heap keeps its k best; a later token that only ties the smallest of them ranks below it
            if (heap.size() == k && logits[i] <= logits[heap.peek()]) {
                continue;
            }
            heap.add(i);
            if (heap.size() > k) {
                heap.poll();
            }
        }
        List<TokenProbability> out = new ArrayList<>();
        while (!heap.isEmpty()) {
            int id = heap.poll();
            out.add(0, new TokenProbability(id, text.apply(id), probability(id), logProbability(id)));
        }
        return out;
    }

    /** log p(top-1) − log p(top-2): how clearly the most probable token leads (0 for a tie). */
    public double topMargin() {
        int best = argmax();
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (i != best && logits[i] > second) {
                second = logits[i];
            }
        }
        return logits[best] - second;
    }

    /** 1 + the number of tokens with a strictly larger logit (1 = top). */
    public int rank(int token) {
        float mine = logits[token];
        int above = 0;
        for (float v : logits) {
            if (v > mine) {
                above++;
            }
        }
        return above + 1;
    }

    public int vocabSize() {
        return logits.length;
    }
}
