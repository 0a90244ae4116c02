package dev.engram.evaluation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.attribution.ValueNeuronRanker;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import java.util.Arrays;

/**
 * What the baselines need from every FFN subvalue u_k (row k of W_down), independent of any prompt: its norm, and for
 * each gold token g its rank in the vocabulary projection P(u_k) = W_U · (γ_f ⊙ C(u_k)) and in −P(u_k) (the
 * projection of a neuron whose coefficient is negative), the entry P(u_k)_g, and the mean, largest and smallest entry
 * of P(u_k) over the vocabulary. Computed in blocks of rows; only per-neuron numbers are kept, never a neurons × vocabulary matrix.
 */
public final class SubvalueProjections {
    private static final int BLOCK = 256;
    private final int[] golds;
    /** [layer][neuron] */
    private final float[][] norms;
    private final float[][] means;
    private final float[][] maxima;
    private final float[][] minima;
    /** [layer][neuron · |golds| + g] */
    private final float[][] goldEntries;
    private final int[][] ranksPositive;
    private final int[][] ranksNegative;

    private SubvalueProjections(int[] golds, int layers) {
        this.golds = golds;
        this.norms = new float[layers][];
        this.means = new float[layers][];
        this.maxima = new float[layers][];
        this.minima = new float[layers][];
        this.goldEntries = new float[layers][];
        this.ranksPositive = new int[layers][];
        this.ranksNegative = new int[layers][];
    }

    public static SubvalueProjections compute(Model model, int[] golds) {
        int layers = model.config().nLayers();
        int n = model.config().dFfn();
        int g = golds.length;
        SubvalueProjections out = new SubvalueProjections(golds.clone(), layers);
        long[] goldIndex = Arrays.stream(golds).asLongStream().toArray();
        for (int l = 0; l < layers; l++) {
            out.norms[l] = new float[n];
            out.means[l] = new float[n];
            out.maxima[l] = new float[n];
            out.minima[l] = new float[n];
            out.goldEntries[l] = new float[n * g];
            out.ranksPositive[l] = new int[n * g];
            out.ranksNegative[l] = new int[n * g];
            for (int from = 0; from < n; from += BLOCK) {
                int start = from;
                int to = Math.min(n, from + BLOCK);
                try (NDScope scope = new NDScope()) {
                    long[] rows = new long[to - from];
                    Arrays.setAll(rows, i -> start + i);
                    NDArray u = model.weights().rows(l, Param.FFN_DOWN, rows);
                    NDArray projection = ValueNeuronRanker.projection(model, u); // [B, V]
                    float[] norm = u.norm(new int[] {1}).toFloatArray();
                    float[] mean = projection.mean(new int[] {1}).toFloatArray();
                    float[] entries = projection.get(new NDIndex(":, {}", projection.getManager().create(goldIndex)))
                            .toFloatArray(); // [B, g]
                    int vocab = (int) projection.getShape().get(1);
                    float[] sorted = projection.sort(1).toFloatArray(); // ascending per row
                    for (int i = 0; i < rows.length; i++) {
                        int k = from + i;
                        out.norms[l][k] = norm[i];
                        out.means[l][k] = mean[i];
                        out.minima[l][k] = sorted[i * vocab];
                        out.maxima[l][k] = sorted[i * vocab + vocab - 1];
                        for (int j = 0; j < g; j++) {
                            float x = entries[i * g + j];
                            int below = countBelow(sorted, i * vocab, vocab, x, false); // entries < x
                            int atMost = countBelow(sorted, i * vocab, vocab, x, true); // entries ≤ x
                            out.goldEntries[l][k * g + j] = x;
                            // rank in P: 1 + #{v : P_v > x};  rank in −P: 1 + #{v : P_v < x}
                            out.ranksPositive[l][k * g + j] = 1 + vocab - atMost;
                            out.ranksNegative[l][k * g + j] = 1 + below;
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * The count of values in the ascending row [offset, offset + length) that are below x ({@code orEqual}: at most
     * x), by binary search.
     */
    private static int countBelow(float[] sorted, int offset, int length, float x, boolean orEqual) {
        int lo = 0;
        int hi = length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            float v = sorted[offset + mid];
            if (v < x || orEqual && v == x) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private int goldSlot(int gold) {
        for (int j = 0; j < golds.length; j++) {
            if (golds[j] == gold) {
                return j;
            }
        }
        throw new IllegalArgumentException("token " + gold + " was not among the gold tokens projected");
    }

    /** ‖u_k‖. */
    public float norm(int layer, int neuron) {
        return norms[layer][neuron];
    }

    /** mean_v P(u_k)_v. */
    public float mean(int layer, int neuron) {
        return means[layer][neuron];
    }

    /** max_v P(u_k)_v. */
    public float max(int layer, int neuron) {
        return maxima[layer][neuron];
    }

    /** min_v P(u_k)_v. */
    public float min(int layer, int neuron) {
        return minima[layer][neuron];
    }

    /** P(u_k)_gold. */
    public float goldEntry(int layer, int neuron, int gold) {
        return goldEntries[layer][neuron * golds.length + goldSlot(gold)];
    }

    /** The gold token's rank in P(u_k) (sign +1) or in −P(u_k) (sign −1); 1 = top. */
    public int rank(int layer, int neuron, int gold, int sign) {
        int slot = neuron * golds.length + goldSlot(gold);
        return sign >= 0 ? ranksPositive[layer][slot] : ranksNegative[layer][slot];
    }
}
