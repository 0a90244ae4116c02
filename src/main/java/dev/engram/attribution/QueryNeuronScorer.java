package dev.engram.attribution;

import dev.engram.runtime.Cancellation;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
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
        float[] projected; // [rows, P]
        try (NDScope scope = new NDScope()) {
            NDArray packedKeys = model.weights().manager().create(packed, new Shape(d, used.size()));
            projected = model.weights().timesRight(layer, subvalues, packedKeys).toFloatArray();
        }
        if (kind == NeuronKind.ATTENTION) {
            return scoreAttentionLayer(layer, used, projected, best);
        }
        double sum = 0;
        for (int c = 0; c < used.size(); c++) {
            NeuronTable table = NeuronTable.ffn(model, trace, layer, used.get(c));
            for (int i = 0; i < table.size(); i++) {
                double q = (double) table.coefficients[i] * projected[table.row(i) * used.size() + c];
                sum += q;
                best.offer(table, i, q);
            }
        }
        return sum;
    }

    /**
     * The attention neurons of one layer at each scored position p: q = (α_{p,s}^j · val_{s,e}^j) · projected, in the
     * order and float arithmetic of {@link NeuronTable#attention}, from one copy of the layer's values and each
     * position's pattern row. A position's full table ([H, d_head, p + 1] coefficients) is built only when one of its
     * neurons can enter the top k, so a long prompt does not make a table per layer and position.
     */
    private double scoreAttentionLayer(int layer, List<Integer> used, float[] projected, TopK best) {
        int heads = config.nHeads();
        int dh = config.headDim();
        int length = trace.length();
        float[] values; // [H, T, dh]
        try (NDScope scope = new NDScope()) {
            values = trace.value(layer).toFloatArray();
        }
        double sum = 0;
        for (int c = 0; c < used.size(); c++) {
            int position = used.get(c);
            int sources = position + 1;
            float[] alpha; // [H, sources]
            try (NDScope scope = new NDScope()) {
                alpha = trace.patternRow(layer, position).toFloatArray();
            }
            NeuronTable table = null;
            for (int j = 0; j < heads; j++) {
                for (int e = 0; e < dh; e++) {
                    int row = j * dh + e;
                    float read = projected[row * used.size() + c];
                    for (int src = 0; src < sources; src++) {
                        float coefficient = values[(j * length + src) * dh + e] * alpha[j * sources + src];
                        double q = (double) coefficient * read;
                        sum += q;
                        if (best.couldTake(q)) {
                            if (table == null) {
                                table = NeuronTable.attention(model, trace, layer, position);
                            }
                            best.offer(table, row * sources + src, q);
                        }
                    }
                }
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
