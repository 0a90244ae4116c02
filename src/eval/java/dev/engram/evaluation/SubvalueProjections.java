package dev.engram.evaluation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
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

    /** Below this many gold tokens, ranks are counted by comparison; from it on, by sorting each row once. */
    static final int SORT_FROM_GOLDS = 32;

    public static SubvalueProjections compute(Model model, int[] golds) {
        return compute(model, golds, golds.length >= SORT_FROM_GOLDS);
    }

    /**
     * {@code sort}: ranks by binary search in each projection row sorted once (cost independent of the gold count);
     * otherwise by counting, for each gold, the entries above and below its own (cheaper for a few golds).
     */
    static SubvalueProjections compute(Model model, int[] golds, boolean sort) {
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
                    float[] maxima = projection.max(new int[] {1}).toFloatArray();
                    float[] minima = projection.min(new int[] {1}).toFloatArray();
                    // counts[j] = {#{v : P_v < P_g}, #{v : P_v > P_g}} per row, for gold j
                    int[][][] counts = sort ? countsBySorting(projection, entries, g)
                            : countsByComparing(projection, goldIndex);
                    for (int i = 0; i < rows.length; i++) {
                        int k = from + i;
                        out.norms[l][k] = norm[i];
                        out.means[l][k] = mean[i];
                        out.minima[l][k] = minima[i];
                        out.maxima[l][k] = maxima[i];
                        for (int j = 0; j < g; j++) {
                            out.goldEntries[l][k * g + j] = entries[i * g + j];
                            // rank in P: 1 + #{v : P_v > P_g};  rank in −P: 1 + #{v : P_v < P_g}
                            out.ranksPositive[l][k * g + j] = 1 + counts[j][1][i];
                            out.ranksNegative[l][k * g + j] = 1 + counts[j][0][i];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** For each gold j: #{v : P_v < P_g} and #{v : P_v > P_g} per row, by one comparison of the block per gold. */
    private static int[][][] countsByComparing(NDArray projection, long[] goldIndex) {
        int[][][] out = new int[goldIndex.length][2][];
        for (int j = 0; j < goldIndex.length; j++) {
            NDArray column = projection.get(new NDIndex(":, {}:{}", goldIndex[j], goldIndex[j] + 1)); // [B, 1]
            out[j][0] = projection.lt(column).sum(new int[] {1}).toType(DataType.INT32, false).toIntArray();
            out[j][1] = projection.gt(column).sum(new int[] {1}).toType(DataType.INT32, false).toIntArray();
        }
        return out;
    }

    /** The same counts by binary search in each row sorted once. */
    private static int[][][] countsBySorting(NDArray projection, float[] entries, int g) {
        int rows = (int) projection.getShape().get(0);
        int vocab = (int) projection.getShape().get(1);
        float[] sorted = projection.sort(1).toFloatArray(); // ascending per row
        int[][][] out = new int[g][2][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < g; j++) {
                float x = entries[i * g + j];
                out[j][0][i] = countBelow(sorted, i * vocab, vocab, x, false);
                out[j][1][i] = vocab - countBelow(sorted, i * vocab, vocab, x, true);
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

    /** How many gold tokens were projected. */
    public int goldCount() {
        return golds.length;
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
