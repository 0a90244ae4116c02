package dev.engram.attribution;

import dev.engram.runtime.Cancellation;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelFamily;
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
 * with the weights: the cost is one matrix-vector product per layer and position, however many value neurons.
 */
final class QueryNeuronScorer {
    private final Model model;
    private final ModelConfig config;
    private final Trace trace;
    private final QueryKey queryKey;
    /** position → per-layer summed keys, for FFN components (layers < l) and attention components. */
    private final Map<Integer, double[][]> ffnKeys = new TreeMap<>();
    private final Map<Integer, double[][]> attentionKeys = new TreeMap<>();
    private final Map<Integer, double[]> embeddingKeys = new TreeMap<>();

    QueryNeuronScorer(Model model, Trace trace, QueryKey queryKey) {
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
            Param subkeys = config.family() == ModelFamily.LLAMA && queryKey == QueryKey.GATE
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
     * key; the keys of all positions go through the weights in one product. Returns the layer's summed score.
     */
    private double scoreLayer(int layer, NeuronKind kind, Map<Integer, double[][]> keys, List<Integer> positions,
            TopK best) {
        List<Integer> used = positions.stream().filter(p -> keys.get(p)[layer] != null).toList();
        if (used.isEmpty()) {
            return 0;
        }
        int d = config.dModel();
        float[] packed = new float[d * used.size()]; // K [d, P]: column c is the key of position used[c]
        for (int c = 0; c < used.size(); c++) {
            double[] key = keys.get(used.get(c))[layer];
            for (int i = 0; i < d; i++) {
                packed[i * used.size() + c] = (float) key[i];
            }
        }
        Param subvalues = kind == NeuronKind.FFN ? Param.FFN_DOWN : Param.ATTN_O;
        try (NDScope scope = new NDScope()) {
            NDArray packedKeys = model.weights().manager().create(packed, new Shape(d, used.size()));
            // [P, rows] in float64: q = (double) coefficient · projection, the products of a literal double loop
            NDArray projected = model.weights().timesRight(layer, subvalues, packedKeys).transpose()
                    .toType(DataType.FLOAT64, false);
            return kind == NeuronKind.FFN ? scoreFfnLayer(layer, used, projected, best)
                    : scoreAttentionLayer(layer, used, projected, best);
        }
    }

    /** The most candidates taken from one batch of q (ties at the k-th place stay in: a margin of 8). */
    private static int candidates(TopK best, long size) {
        return (int) Math.min(size, best.capacity() + 8L);
    }

    /** FFN neurons at every position at once: q[p, k] = m_p[k] · projection[p, k], [P, d_ffn]; returns Σ q. */
    private double scoreFfnLayer(int layer, List<Integer> used, NDArray projected, TopK best) {
        NDList rows = new NDList();
        for (int position : used) {
            rows.add(trace.ffnCoefficientsAt(layer, position));
        }
        NDArray q = NDArrays.stack(rows).toType(DataType.FLOAT64, false).mul(projected); // [P, d_ffn]
        int width = config.dFfn();
        NeuronTable[] tables = new NeuronTable[used.size()];
        offerBest(q, best, (flat, score) -> {
            int c = (int) (flat / width);
            if (tables[c] == null) {
                tables[c] = NeuronTable.ffn(model, trace, layer, used.get(c));
            }
            best.offer(tables[c], (int) (flat % width), score);
        });
        return q.sum().getDouble();
    }

    /** Receives one candidate: its index in the flattened batch and its score. */
    @FunctionalInterface
    private interface CandidateSink {
        void accept(long flatIndex, double score);
    }

    /** The batch's largest finite scores that could enter the top k, handed to {@code sink} (a native top-k). */
    private static void offerBest(NDArray scores, TopK best, CandidateSink sink) {
        if (best.capacity() == 0) {
            return;
        }
        NDArray flat = scores.flatten();
        NDList top = flat.topK(candidates(best, flat.size()), 0, true, true);
        double[] values = top.get(0).toDoubleArray();
        long[] indices = top.get(1).toLongArray();
        for (int i = 0; i < values.length; i++) {
            if (Double.isFinite(values[i]) && best.couldTake(values[i])) {
                sink.accept(indices[i], values[i]);
            }
        }
    }

    /** Positions scored together per attention batch: about this many [H, d_head, T] coefficients at once. */
    private static final long ATTENTION_BATCH_ELEMENTS = 1L << 22;

    /**
     * Attention neurons (j, e, s) at scored positions p: q = (val_{s,e}^j · α_{p,s}^j) · projection[p, j·d_head + e],
     * as tensor work over a batch of positions ([P, H, d_head, T], sources after p masked out), with the coefficient in
     * float32 as {@link NeuronTable#attention} makes it. A position's table is built only when one of its neurons can
     * enter the top k. Returns Σ q.
     */
    private double scoreAttentionLayer(int layer, List<Integer> used, NDArray projected, TopK best) {
        int heads = config.nHeads();
        int dh = config.headDim();
        int length = trace.length();
        NDArray valuesByDim = trace.value(layer).transpose(0, 2, 1).expandDims(0); // [1, H, dh, T]
        int perBatch = (int) Math.max(1, ATTENTION_BATCH_ELEMENTS / ((long) heads * dh * length));
        double sum = 0;
        for (int from = 0; from < used.size(); from += perBatch) {
            int to = Math.min(used.size(), from + perBatch);
            float[] alpha = new float[(to - from) * heads * length]; // [P', H, T], zero after each position
            double[] mask = new double[(to - from) * length]; // [P', T]: 0 for sources ≤ p, −∞ after
            for (int c = from; c < to; c++) {
                int position = used.get(c);
                float[] row = trace.patternRow(layer, position).toFloatArray(); // [H, p + 1]
                for (int j = 0; j < heads; j++) {
                    System.arraycopy(row, j * (position + 1), alpha, ((c - from) * heads + j) * length, position + 1);
                }
                java.util.Arrays.fill(mask, (c - from) * length + position + 1, (c - from + 1) * length,
                        Double.NEGATIVE_INFINITY);
            }
            Cancellation.checkpoint();
            try (NDScope batch = new NDScope()) { // one batch's [P', H, d_head, T] arrays at a time
                NDManager m = projected.getManager();
                NDArray coefficient = valuesByDim.mul(m.create(alpha, new Shape(to - from, heads, 1, length))); // f32
                NDArray q = coefficient.toType(DataType.FLOAT64, false).mul(projected.get((from) + ":" + to)
                        .reshape(to - from, heads, dh, 1)); // [P', H, dh, T]
                sum += q.sum().getDouble();
                int batchStart = from;
                NeuronTable[] tables = new NeuronTable[to - from];
                offerBest(q.add(m.create(mask, new Shape(to - from, 1, 1, length))), best, (flat, score) -> {
                    long perPosition = (long) heads * dh * length;
                    int c = (int) (flat / perPosition);
                    int row = (int) ((flat % perPosition) / length); // j·d_head + e
                    int source = (int) (flat % length);
                    int position = used.get(batchStart + c);
                    if (tables[c] == null) {
                        tables[c] = NeuronTable.attention(model, trace, layer, position);
                    }
                    best.offer(tables[c], row * (position + 1) + source, score);
                });
            }
        }
        return sum;
    }

    /** subkey ⊙ γ, centred for LayerNorm models (C is symmetric, so C moves from the residual onto the key). */
    private double[] foldedKey(int layer, Param subkeys, int column, NDArray gamma) {
        float[] k;
        try (NDScope scope = new NDScope()) {
            k = model.weights().column(layer, subkeys, column).mul(gamma).toFloatArray();
        }
        double[] key = new double[k.length];
        double mean = 0;
        for (float x : k) {
            mean += x / (double) k.length;
        }
        boolean centre = config.family() == ModelFamily.GPT2;
        for (int i = 0; i < k.length; i++) {
            key[i] = centre ? k[i] - mean : k[i];
        }
        return key;
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
