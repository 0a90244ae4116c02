package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.Activations;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelFamily;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Norms;
import dev.engram.runtime.Param;
import dev.engram.runtime.Rope;
import java.util.ArrayList;
import java.util.List;

/**
 * The transformer forward pass over a whole prompt, recording a {@link Trace}. Each block runs in its own
 * {@link NDScope}: intermediates are freed when the block ends, and only the hook points a trace keeps survive.
 * Neuron scalings and sparse weight deltas are applied on the fly; the weights are never copied.
 */
public final class ForwardPass {
    private final ModelConfig config;
    private final ModelWeights weights;
    private NeuronScaling scaling = NeuronScaling.none();
    private WeightDelta delta = WeightDelta.none();

    private ForwardPass(Model model) {
        this.config = model.config();
        this.weights = model.weights();
    }

    public static ForwardPass of(Model model) {
        return new ForwardPass(model);
    }

    public ForwardPass withScaling(NeuronScaling scaling) {
        this.scaling = scaling;
        return this;
    }

    public ForwardPass withDelta(WeightDelta delta) {
        this.delta = delta;
        return this;
    }

    /** Runs the prompt and keeps every hook point. */
    public Trace trace(int[] tokens) {
        return run(tokens, true);
    }

    /** Runs the prompt and keeps only the logits at the last position. */
    public float[] lastLogits(int[] tokens) {
        try (Trace trace = run(tokens, false)) {
            return trace.lastLogits();
        }
    }

    private Trace run(int[] tokens, boolean record) {
        validate(tokens);
        int seqLen = tokens.length;
        NDManager traceManager = weights.manager().newSubManager();
        List<NDArray> pre = new ArrayList<>();
        List<NDArray> mid = new ArrayList<>();
        List<NDArray> post = new ArrayList<>();
        List<NDArray> patterns = new ArrayList<>();
        List<NDArray> values = new ArrayList<>();
        List<NDArray> coefficients = new ArrayList<>();
        try {
            NDArray x;
            NDArray mask;
            try (NDScope scope = new NDScope()) {
                x = keep(embed(tokens), traceManager);
                mask = keep(causalMask(traceManager, seqLen), traceManager);
            }
            for (int l = 0; l < config.nLayers(); l++) {
                try (NDScope scope = new NDScope()) {
                    LayerWeights w = weights.layer(l);
                    // A^l: attention over the pre-normed residual N_1(h^{l-1})
                    NDArray a = Norms.apply(config, x, w.attnNormWeight(), w.attnNormBias());
                    Attention attn = attention(l, w, a, mask, seqLen);
                    NDArray residMid = x.add(attn.output);
                    // F^l: FFN over N_2(mid^l); m is the vector of neuron coefficients
                    NDArray b = Norms.apply(config, residMid, w.ffnNormWeight(), w.ffnNormBias());
                    NDArray m = applyFfnScaling(l, ffnCoefficients(l, w, b));
                    NDArray residPost = residMid.add(linear(m, w.wDown(), w.bDown(), l, Param.FFN_DOWN));
                    if (record) {
                        pre.add(x);
                        mid.add(keep(residMid, traceManager));
                        patterns.add(keep(attn.pattern, traceManager));
                        values.add(keep(attn.value, traceManager));
                        coefficients.add(keep(m, traceManager));
                        post.add(keep(residPost, traceManager));
                    } else {
                        x.close();
                        keep(residPost, traceManager);
                    }
                    x = residPost;
                }
            }
            try (NDScope scope = new NDScope()) {
                NDArray last = record ? x : x.get(new NDIndex("{}:", seqLen - 1));
                NDArray normed = Norms.apply(config, last, weights.finalNormWeight(), weights.finalNormBias());
                NDArray logits = keep(normed.matMul(weights.unembedding()), traceManager);
                if (!record) {
                    return new Trace(traceManager, config, tokens, null, null, null, null, null, null, null, logits);
                }
                return new Trace(traceManager, config, tokens, pre, mid, post, patterns, values, coefficients,
                        keep(normed, traceManager), logits);
            }
        } catch (RuntimeException e) {
            traceManager.close();
            throw e;
        }
    }

    private void validate(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("the token sequence is empty");
        }
        if (tokens.length > config.maxSeqLen()) {
            throw new IllegalArgumentException("the sequence has " + tokens.length
                    + " tokens; the model's context is " + config.maxSeqLen());
        }
        for (int t : tokens) {
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    /** h^0 = W_E[tokens] (+ W_pos[0..T) for GPT-2). */
    private NDArray embed(int[] tokens) {
        NDList rows = new NDList(tokens.length);
        for (int token : tokens) {
            rows.add(weights.tokenEmbedding().get(token));
        }
        NDArray h0 = NDArrays.stack(rows);
        if (weights.positionEmbedding() != null) {
            h0 = h0.add(weights.positionEmbedding().get(new NDIndex(":{}", tokens.length)));
        }
        return h0;
    }

    private record Attention(NDArray output, NDArray pattern, NDArray value) {
    }

    /**
     * Head j: α^j = softmax(q^j·k^{g(j)ᵀ}/sqrt(d_head) + causal mask); z^j = α^j·val^{g(j)};
     * A = concat_j(z^j)·W_O + b_O.
     */
    private Attention attention(int layer, LayerWeights w, NDArray a, NDArray mask, int seqLen) {
        int nH = config.nHeads();
        int nKv = config.nKvHeads();
        int dh = config.headDim();
        NDArray q = linear(a, w.wQ(), w.bQ(), layer, Param.ATTN_Q).reshape(seqLen, nH, dh);
        NDArray k = linear(a, w.wK(), w.bK(), layer, Param.ATTN_K).reshape(seqLen, nKv, dh);
        NDArray v = linear(a, w.wV(), w.bV(), layer, Param.ATTN_V).reshape(seqLen, nKv, dh);
        if (config.family() == ModelFamily.LLAMA) {
            q = Rope.apply(q, config);
            k = Rope.apply(k, config);
        }
        if (nKv < nH) {
            // g(j) = floor(j / group): each key/value head serves `group` consecutive query heads
            k = k.repeat(1, config.groupSize());
            v = v.repeat(1, config.groupSize());
        }
        NDArray qh = q.transpose(1, 0, 2);
        NDArray kh = k.transpose(1, 0, 2);
        NDArray vh = v.transpose(1, 0, 2);
        NDArray scores = qh.matMul(kh.transpose(0, 2, 1)).div(Math.sqrt(dh)).add(mask);
        NDArray pattern = scores.softmax(-1);
        NDArray z = applyAttentionScaling(layer, pattern.matMul(vh), pattern, vh);
        NDArray concat = z.transpose(1, 0, 2).reshape(seqLen, (long) nH * dh);
        return new Attention(linear(concat, w.wO(), w.bO(), layer, Param.ATTN_O), pattern, vh);
    }

    /** Llama: m = silu(x·W_gate) ⊙ (x·W_up). GPT-2: m = gelu(x·W_fc + b_fc). */
    private NDArray ffnCoefficients(int layer, LayerWeights w, NDArray x) {
        if (config.family() == ModelFamily.LLAMA) {
            NDArray gate = linear(x, w.wGate(), null, layer, Param.FFN_GATE);
            NDArray up = linear(x, w.wUp(), null, layer, Param.FFN_UP);
            return Activations.silu(gate).mul(up);
        }
        return Activations.geluTanh(linear(x, w.wUp(), w.bUp(), layer, Param.FFN_UP));
    }

    /** y = x·(W + ΔW) + b, with ΔW sparse: only the edited rows and columns are ever materialised. */
    private NDArray linear(NDArray x, NDArray w, NDArray bias, int layer, Param param) {
        NDArray y = x.matMul(w);
        if (bias != null) {
            y = y.add(bias);
        }
        if (delta.isEmpty()) {
            return y;
        }
        long in = w.getShape().get(0);
        long out = w.getShape().get(1);
        List<WeightDelta.Entry> rows = delta.at(layer, param, WeightDelta.Slice.ROW);
        if (!rows.isEmpty()) {
            // x·ΔW for ΔW = Σ_r e_r ⊗ δ_r  =  (x·S)·D, S = one-hot selector [in, R], D = stacked δ_r [R, out]
            NDArray selector = oneHot(x.getManager(), rows, in).transpose();
            y = y.add(x.matMul(selector).matMul(stacked(x.getManager(), rows, out)));
        }
        List<WeightDelta.Entry> cols = delta.at(layer, param, WeightDelta.Slice.COLUMN);
        if (!cols.isEmpty()) {
            // x·ΔW for ΔW = Σ_c δ_c ⊗ e_c  =  (x·Dᵀ)·S, D = stacked δ_c [C, in], S = one-hot [C, out]
            NDArray read = x.matMul(stacked(x.getManager(), cols, in).transpose());
            y = y.add(read.matMul(oneHot(x.getManager(), cols, out)));
        }
        return y;
    }

    private static NDArray oneHot(NDManager manager, List<WeightDelta.Entry> entries, long width) {
        float[] data = new float[(int) (entries.size() * width)];
        for (int r = 0; r < entries.size(); r++) {
            int index = entries.get(r).index();
            if (index < 0 || index >= width) {
                throw new IllegalArgumentException("weight delta index " + index + " is outside [0, " + width + ")");
            }
            data[(int) (r * width) + index] = 1f;
        }
        return manager.create(data, new Shape(entries.size(), width));
    }

    private static NDArray stacked(NDManager manager, List<WeightDelta.Entry> entries, long width) {
        float[] data = new float[(int) (entries.size() * width)];
        for (int r = 0; r < entries.size(); r++) {
            float[] v = entries.get(r).vector();
            if (v.length != width) {
                throw new IllegalArgumentException("weight delta vector has length " + v.length + ", expected " + width);
            }
            System.arraycopy(v, 0, data, (int) (r * width), v.length);
        }
        return manager.create(data, new Shape(entries.size(), width));
    }

    private NDArray applyFfnScaling(int layer, NDArray m) {
        for (NeuronScaling.Ffn f : scaling.ffnAt(layer)) {
            checkRange("FFN neuron", f.neuron(), config.dFfn());
            NDIndex where = f.position() == NeuronScaling.ALL_POSITIONS
                    ? new NDIndex(":, {}", f.neuron())
                    : new NDIndex("{}, {}", checkRange("position", f.position(), m.getShape().get(0)), f.neuron());
            m.set(where, m.get(where).mul(f.scale()));
        }
        return m;
    }

    /** Attention neuron (j, e, p) at query t contributes α_{t,p}^j·val_{p,e}^j to z_{t,e}^j; rescale that term. */
    private NDArray applyAttentionScaling(int layer, NDArray z, NDArray pattern, NDArray value) {
        long seqLen = z.getShape().get(1);
        for (NeuronScaling.Attention n : scaling.attentionAt(layer)) {
            checkRange("head", n.head(), config.nHeads());
            checkRange("head dim", n.dim(), config.headDim());
            checkRange("query position", n.queryPosition(), seqLen);
            checkRange("source position", n.source(), seqLen);
            float coefficient = pattern.getFloat(n.head(), n.queryPosition(), n.source())
                    * value.getFloat(n.head(), n.source(), n.dim());
            NDIndex where = new NDIndex("{}, {}, {}", n.head(), n.queryPosition(), n.dim());
            z.set(where, z.getFloat(n.head(), n.queryPosition(), n.dim()) + (n.scale() - 1f) * coefficient);
        }
        return z;
    }

    private static long checkRange(String what, long value, long size) {
        if (value < 0 || value >= size) {
            throw new IllegalArgumentException(what + " " + value + " is outside [0, " + size + ")");
        }
        return value;
    }

    /** M[t, s] = 0 where s ≤ t, −∞ where s > t (a query never reads a later position). */
    private static NDArray causalMask(NDManager manager, int seqLen) {
        float[] data = new float[seqLen * seqLen];
        for (int t = 0; t < seqLen; t++) {
            for (int s = t + 1; s < seqLen; s++) {
                data[t * seqLen + s] = Float.NEGATIVE_INFINITY;
            }
        }
        return manager.create(data, new Shape(seqLen, seqLen));
    }

    private static NDArray keep(NDArray array, NDManager owner) {
        NDScope.unregister(array);
        array.attach(owner);
        return array;
    }
}
