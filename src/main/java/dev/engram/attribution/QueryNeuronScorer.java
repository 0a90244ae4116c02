package dev.engram.attribution;

import dev.engram.runtime.Cancellation;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Param;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Query neurons (method.md, "Query neurons"). A value neuron i of layer l with subkey κ_i (γ folded in, the norm's
 * centering and scale held fixed) is activated by each component u of the residual it reads, r_i, in proportion
 * q(u → i) = Imp_i · (u·κ_i) / (r_i·κ_i). FFN value neurons read mid_T^l, whose components are the embedding, the
 * attention neurons of layers ≤ l and the FFN neurons of layers < l at T; attention value neurons (l, j, e, p) read
 * h_p^{l−1} at their source p. A component's query score is the sum of q over the chosen value neurons.
 *
 * <p>Since q is linear in κ, the value neurons are folded into one key per (position, layer) before any product
 * with the weights: per layer, one product of the subvalue matrix with the keys of all positions, however many value
 * neurons; then q for every component of the layer as tensor work (coefficients ⊙ projections) and a native top-k.
 */
final class QueryNeuronScorer {
    private final Model model;
    private final ModelConfig config;
    private final Trace trace;
    private final QueryKey queryKey;
    private final long attentionBatchElements;
    /** position → per-layer summed keys, for FFN components (layers < l) and attention components. */
    private final Map<Integer, double[][]> ffnKeys = new TreeMap<>();
    private final Map<Integer, double[][]> attentionKeys = new TreeMap<>();
    private final Map<Integer, double[]> embeddingKeys = new TreeMap<>();

    /**
     * @param attentionBatchElements how many attention coefficients ([P', H, d_head, S]) one batch of positions may
     *                               hold; a position whose own share is larger is a batch on its own
     */
    QueryNeuronScorer(Model model, Trace trace, QueryKey queryKey, long attentionBatchElements) {
        this.attentionBatchElements = attentionBatchElements;
        this.model = model;
        this.config = model.config();
        this.trace = trace;
        this.queryKey = queryKey;
    }

    /** Adds value neuron {@code v} (with its score) to the set whose query neurons are wanted. */
    void addValueNeuron(RankedNeuron v) {
        NeuronId id = v.id();
        LayerWeights w = model.weights().base().layer(id.layer());
        double[] key;
        double[] read;
        int position;
        if (id.kind() == NeuronKind.FFN) {
            // κ = gate_k ⊙ γ_2 (or up_k, or GPT-2's c_fc column); reads mid_T^l
            Param subkeys = config.family().feedForward().gated() && queryKey == QueryKey.GATE
                    ? Param.FFN_GATE : Param.FFN_UP;
            key = foldedKey(id.layer(), subkeys, id.index(), w.ffnNormWeight());
            read = vector(trace.residMid(id.layer()), id.position());
            position = id.position();
        } else {
            // κ = W_V column (g(j)·d_head + e) ⊙ γ_1; reads h_p^{l−1} at the source position
            int column = config.kvHeadOf(id.head()) * config.headDim() + id.dim();
            key = foldedKey(id.layer(), Param.ATTN_V, column, w.attnNormWeight());
            read = vector(trace.residPre(id.layer()), id.source());
            position = id.source();
        }
        double activation = dot(read, key);
        if (activation == 0) {
            return;
        }
        double weight = v.score() / activation;
        double[][] ffn = ffnKeys.computeIfAbsent(position, p -> new double[config.nLayers()][]);
        double[][] attention = attentionKeys.computeIfAbsent(position, p -> new double[config.nLayers()][]);
        int lastAttention = id.kind() == NeuronKind.FFN ? id.layer() : id.layer() - 1;
        for (int l = 0; l < config.nLayers(); l++) {
            if (l < id.layer()) {
                ffn[l] = axpy(ffn[l], weight, key);
            }
            if (l <= lastAttention) {
                attention[l] = axpy(attention[l], weight, key);
            }
        }
        embeddingKeys.put(position, axpy(embeddingKeys.get(position), weight, key));
    }

    /** Scores every component against the summed keys and keeps the {@code topK} best. */
    QueryScores scores(int topK) {
        double[] attentionLayers = new double[config.nLayers()];
        double[] ffnLayers = new double[config.nLayers()];
        double embedding = 0;
        List<Integer> positions = new ArrayList<>(embeddingKeys.keySet());
        for (int position : positions) {
            embedding += dot(vector(trace.embedding(), position), embeddingKeys.get(position));
        }
        TopK best = new TopK(topK);
        for (int l = 0; l < config.nLayers(); l++) {
            Cancellation.checkpoint();
            ffnLayers[l] = scoreLayer(l, NeuronKind.FFN, ffnKeys, positions, best);
            attentionLayers[l] = scoreLayer(l, NeuronKind.ATTENTION, attentionKeys, positions, best);
        }
        List<ScoredNeuron> top = new ArrayList<>();
        for (RankedNeuron r : best.sorted()) {
            top.add(new ScoredNeuron(r.id(), null, r.score(), r.coefficient(), List.of(), 0));
        }
        return new QueryScores(top, attentionLayers, ffnLayers, embedding);
    }

    /**
     * q_i = coefficient_i · (subvalue_row(i) · K_p) for every neuron of one layer and kind at every position p with a
     * key, as tensor work: the keys of all positions go through the weights in one product, the coefficients of all
     * positions are recomputed in one pass, and q is their elementwise product. Returns the layer's summed score.
     */
    private double scoreLayer(int layer, NeuronKind kind, Map<Integer, double[][]> keys, List<Integer> positions,
            TopK best) {
        int[] used = positions.stream().filter(p -> keys.get(p)[layer] != null).mapToInt(Integer::intValue).toArray();
        if (used.length == 0) {
            return 0;
        }
        int d = config.dModel();
        float[] packed = new float[d * used.length]; // K [d, P]: column c is the key of position used[c]
        for (int c = 0; c < used.length; c++) {
            double[] key = keys.get(used[c])[layer];
            for (int i = 0; i < d; i++) {
                packed[i * used.length + c] = (float) key[i];
            }
        }
        Param subvalues = kind == NeuronKind.FFN ? Param.FFN_DOWN : Param.ATTN_O;
        try (NDScope scope = new NDScope()) {
            NDArray packedKeys = model.weights().manager().create(packed, new Shape(d, used.length));
            // subvalue_row · K_p for every row and position: [P, rows]
            NDArray projected = model.weights().timesRight(layer, subvalues, packedKeys).transpose();
            return kind == NeuronKind.FFN ? scoreFfnLayer(layer, used, projected, best)
                    : scoreAttentionLayer(layer, used, projected, best);
        }
    }

    /** FFN neurons k at every position p: q[p, k] = m^l_p[k] · projected[p, k], [P, d_ffn]. Returns Σ q. */
    private double scoreFfnLayer(int layer, int[] used, NDArray projected, TopK best) {
        NDArray coefficients = trace.ffnCoefficientsAt(layer, used); // [P, d_ffn]
        NDArray q = coefficients.mul(projected);
        int width = config.dFfn();
        NeuronTable[] tables = new NeuronTable[used.length];
        offerCandidates(q, best, (flat, score) -> {
            int c = (int) (flat / width);
            if (tables[c] == null) {
                tables[c] = NeuronTable.ffn(model, layer, used[c], coefficients.get(c).toFloatArray());
            }
            best.offer(tables[c], (int) (flat % width), score);
        });
        return sum(q);
    }

    /**
     * Attention neurons (j, e, s) at scored positions p: q[p, j, e, s] = (α_{p,s}^j · val_{s,e}^j) · projected[p, j·d_head
     * + e], as tensor work over batches of positions ([P', H, d_head, S], the pattern rows of a batch recomputed in one
     * pass), the coefficient in float32 as {@link NeuronTable#attention} makes it. Sources after p are not neurons of
     * position p: their α is 0, so they add nothing to the sum, and they are kept out of the candidates. Returns Σ q.
     */
    private double scoreAttentionLayer(int layer, int[] used, NDArray projected, TopK best) {
        int heads = config.nHeads();
        int dh = config.headDim();
        NDArray valuesByDim = trace.value(layer).transpose(0, 2, 1); // [H, dh, T]
        double sum = 0;
        int from = 0;
        while (from < used.length) {
            Cancellation.checkpoint();
            int to = from + 1; // used is ascending: a batch's sources are 0 .. used[to − 1]
            while (to < used.length && (long) (to + 1 - from) * heads * dh * (used[to] + 1) <= attentionBatchElements) {
                to++;
            }
            int[] batch = java.util.Arrays.copyOfRange(used, from, to);
            int sources = batch[batch.length - 1] + 1;
            try (NDScope scope = new NDScope()) { // one batch's [P', H, d_head, S] arrays at a time
                NDArray alpha = trace.patternRows(layer, batch).transpose(1, 0, 2).expandDims(2); // [P', H, 1, S]
                NDArray coefficients = alpha.mul(valuesByDim.get(":, :, :" + sources).expandDims(0)); // [P', H, dh, S]
                NDArray q = coefficients.mul(projected.get(from + ":" + to).reshape(batch.length, heads, dh, 1));
                sum += sum(q);
                float[] later = new float[batch.length * sources]; // [P', S]: −∞ where s > p
                for (int c = 0; c < batch.length; c++) {
                    java.util.Arrays.fill(later, c * sources + batch[c] + 1, (c + 1) * sources,
                            Float.NEGATIVE_INFINITY);
                }
                NDArray ranked = q.add(q.getManager().create(later, new Shape(batch.length, 1, 1, sources)));
                long perPosition = (long) heads * dh * sources;
                NeuronTable[] tables = new NeuronTable[batch.length];
                offerCandidates(ranked, best, (flat, score) -> {
                    int c = (int) (flat / perPosition);
                    int row = (int) (flat % perPosition / sources); // j·d_head + e
                    int source = (int) (flat % sources);
                    int position = batch[c];
                    if (tables[c] == null) {
                        tables[c] = NeuronTable.attention(model, layer, position,
                                coefficients.get(c).get(":, :, :" + (position + 1)));
                    }
                    best.offer(tables[c], row * (position + 1) + source, score);
                });
            }
            from = to;
        }
        return sum;
    }

    /** Receives one candidate of a batch: its index in the flattened batch and its score. */
    @FunctionalInterface
    private interface CandidateSink {
        void accept(long flatIndex, double score);
    }

    /**
     * Hands {@code sink} every entry of {@code scores} that could enter the top k: those at least as large as the
     * batch's own k-th largest (a native top-k finds it; ties with it all pass) that {@link TopK#couldTake}.
     */
    private static void offerCandidates(NDArray scores, TopK best, CandidateSink sink) {
        NDArray flat = scores.flatten();
        int k = (int) Math.min(best.capacity(), flat.size());
        if (k == 0) {
            return;
        }
        float kth = flat.topK(k, 0, true, false).get(0).min().getFloat();
        if (best.full() && kth < best.threshold()) {
            kth = (float) best.threshold();
        }
        NDArray taken = flat.gte(kth);
        float[] values = flat.booleanMask(taken).toFloatArray();
        long[] indices = taken.nonzero().toLongArray();
        for (int i = 0; i < values.length; i++) {
            if (Float.isFinite(values[i]) && best.couldTake(values[i])) { // −∞: not a neuron of its position
                sink.accept(indices[i], values[i]);
            }
        }
    }

    /** Σ of a float array: along its last axis in float32, then the partial sums in float64. */
    private static double sum(NDArray a) {
        return a.sum(new int[] {a.getShape().dimension() - 1}).toType(DataType.FLOAT64, false).sum().getDouble();
    }

    /** subkey ⊙ γ, centred for LayerNorm models (C is symmetric, so C moves from the residual onto the key). */
    private double[] foldedKey(int layer, Param subkeys, int column, NDArray gamma) {
        float[] k;
        try (NDScope scope = new NDScope()) {
            k = model.weights().column(layer, subkeys, column).mul(gamma).toFloatArray();
        }
        double[] key = new double[k.length];
        for (int i = 0; i < k.length; i++) {
            key[i] = k[i];
        }
        return config.family().norm().centre(key);
    }

    private static double[] vector(NDArray rows, int position) {
        try (NDScope scope = new NDScope()) {
            float[] f = rows.get(position).toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double[] axpy(double[] acc, double a, double[] x) {
        double[] out = acc == null ? new double[x.length] : acc;
        for (int i = 0; i < x.length; i++) {
            out[i] += a * x[i];
        }
        return out;
    }

}
