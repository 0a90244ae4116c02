package dev.engram.attribution;

import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.support.ReferenceMath;
import dev.engram.trace.Trace;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The slow, obvious reference in plain Java doubles: for every neuron it forms x = base + v, applies the final
 * norm (frozen or exact), multiplies by W_U and takes the log-softmax. Shares nothing with the engine but the trace.
 */
final class LiteralReference {
    private final ModelConfig c;
    private final Model model;
    private final Trace trace;
    private final int t;
    private final int w;
    private final NormMode mode;
    private final float[] unembedding; // [d, V]
    private final float[] gamma;
    private final float[] beta;
    private final double frozenScale;

    LiteralReference(Model model, Trace trace, int position, int target, NormMode mode) {
        this.c = model.config();
        this.model = model;
        this.trace = trace;
        this.t = position;
        this.w = target;
        this.mode = mode;
        this.unembedding = model.weights().base().unembedding().toFloatArray();
        this.gamma = model.weights().base().finalNormWeight().toFloatArray();
        this.beta = model.weights().base().finalNormBias() == null ? null : model.weights().base().finalNormBias().toFloatArray();
        this.frozenScale = scale(row(trace.residPost(c.nLayers() - 1).toFloatArray(), t));
    }

    /** log p(w | x) with N_f per the mode. */
    double logProb(double[] x) {
        int d = c.dModel();
        int vocab = c.vocabSize();
        double mean = 0;
        if (c.family().norm().centres()) {
            for (double v : x) {
                mean += v / d;
            }
        }
        double s = mode == NormMode.FROZEN ? frozenScale : scale(x);
        double[] normed = new double[d];
        for (int i = 0; i < d; i++) {
            normed[i] = gamma[i] * (x[i] - mean) / s + (mode == NormMode.EXACT && beta != null ? beta[i] : 0);
        }
        double[] logits = new double[vocab];
        for (int i = 0; i < d; i++) {
            for (int v = 0; v < vocab; v++) {
                logits[v] += normed[i] * unembedding[i * vocab + v];
            }
        }
        return ReferenceMath.logSoftmax(logits, w);
    }

    /** RMS or LayerNorm scale of x. */
    private double scale(double[] x) {
        double mean = 0;
        if (c.family().norm().centres()) {
            for (double v : x) {
                mean += v / x.length;
            }
        }
        double sq = 0;
        for (double v : x) {
            sq += (v - mean) * (v - mean) / x.length;
        }
        return Math.sqrt(sq + c.normEps());
    }

    /** Imp of every value neuron at the position, keyed by id. */
    Map<NeuronId, Double> allScores() {
        Map<NeuronId, Double> out = new LinkedHashMap<>();
        int d = c.dModel();
        int dh = c.headDim();
        int sources = t + 1;
        int seq = trace.length();
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = model.weights().base().layer(l);
            // attention neurons: base h^{l-1}_t, v = α_{t,p}·val_{p,e}·W_O[j·dh+e]
            double[] pre = row(trace.residPre(l).toFloatArray(), t);
            double basePre = logProb(pre);
            float[] pattern = trace.pattern(l).toFloatArray();
            float[] value = trace.value(l).toFloatArray();
            float[] wO = lw.wO().toFloatArray();
            for (int j = 0; j < c.nHeads(); j++) {
                for (int e = 0; e < dh; e++) {
                    for (int p = 0; p < sources; p++) {
                        double coefficient = (double) pattern[(j * seq + t) * seq + p] * value[(j * seq + p) * dh + e];
                        double[] x = pre.clone();
                        for (int i = 0; i < d; i++) {
                            x[i] += coefficient * wO[(j * dh + e) * d + i];
                        }
                        out.put(NeuronId.attention(l, j, e, p, t, dh), logProb(x) - basePre);
                    }
                }
            }
            // FFN neurons: base mid^l_t, v = m_k·W_down[k]
            double[] mid = row(trace.residMid(l).toFloatArray(), t);
            double baseMid = logProb(mid);
            float[] m = trace.ffnCoefficients(l).get(t).toFloatArray();
            float[] down = lw.wDown().toFloatArray();
            for (int k = 0; k < c.dFfn(); k++) {
                double[] x = mid.clone();
                for (int i = 0; i < d; i++) {
                    x[i] += (double) m[k] * down[k * d + i];
                }
                out.put(NeuronId.ffn(l, k, t), logProb(x) - baseMid);
            }
        }
        return out;
    }

    double[] residual(int which) {
        return row(trace.residPost(which).toFloatArray(), t);
    }

    double[] embedding() {
        return row(trace.embedding().toFloatArray(), t);
    }

    /**
     * Head score, literally: head j's output at t, Σ_p α_{t,p}^j Σ_e val_{p,e}^j · W_O[j·d_head + e], added to h^{l−1}:
     * log p(w | h^{l−1} + head) − log p(w | h^{l−1}).
     */
    double headScore(int l, int j) {
        int d = c.dModel();
        int dh = c.headDim();
        int seq = trace.length();
        double[] pre = row(trace.residPre(l).toFloatArray(), t);
        double[] x = pre.clone();
        float[] pattern = trace.pattern(l).toFloatArray();
        float[] value = trace.value(l).toFloatArray();
        float[] wO = model.weights().base().layer(l).wO().toFloatArray();
        for (int p = 0; p <= t; p++) {
            for (int e = 0; e < dh; e++) {
                double coefficient = (double) pattern[(j * seq + t) * seq + p] * value[(j * seq + p) * dh + e];
                for (int i = 0; i < d; i++) {
                    x[i] += coefficient * wO[(j * dh + e) * d + i];
                }
            }
        }
        return logProb(x) - logProb(pre);
    }

    /**
     * Query scores of every component u of the residual that one value neuron reads, literally (method.md, "Query
     * neurons"): q(u) = Imp · (u·κ) / (r·κ), with κ the value neuron's subkey ⊙ γ (centred for LayerNorm) and r the
     * residual it reads. An FFN neuron (l, k) reads mid^l at its position, with the gate (Llama) or c_fc (GPT-2)
     * column as subkey; an attention neuron (l, j, e, p) reads h^{l−1} at its source p, with W_V column
     * (j / (n_heads / n_kv_heads))·d_head + e as subkey. Components: the embedding (key {@code null}), the attention
     * neurons of layers before l (and of l itself for an FFN neuron), the FFN neurons of layers before l.
     */
    Map<NeuronId, Double> queryScores(NeuronId v, double importance) {
        int d = c.dModel();
        int dh = c.headDim();
        int seq = trace.length();
        LayerWeights lw = model.weights().base().layer(v.layer());
        float[] subkeys;
        float[] gammaIn;
        int column;
        int position;
        double[] read;
        if (v.kind() == NeuronKind.FFN) {
            subkeys = (c.family().feedForward().gated() ? lw.wGate() : lw.wUp()).toFloatArray();
            gammaIn = lw.ffnNormWeight().toFloatArray();
            column = v.index();
            position = v.position();
            read = row(trace.residMid(v.layer()).toFloatArray(), position);
        } else {
            subkeys = lw.wV().toFloatArray();
            gammaIn = lw.attnNormWeight().toFloatArray();
            int group = c.nHeads() / c.nKvHeads();
            column = (v.head() / group) * dh + v.dim();
            position = v.source();
            read = row(trace.residPre(v.layer()).toFloatArray(), position);
        }
        int width = subkeys.length / d;
        double[] key = new double[d];
        double mean = 0;
        for (int i = 0; i < d; i++) {
            key[i] = (double) subkeys[i * width + column] * gammaIn[i];
            mean += key[i] / d;
        }
        if (c.family().norm().centres()) {
            for (int i = 0; i < d; i++) {
                key[i] -= mean;
            }
        }
        double scale = importance / dot(read, key);
        Map<NeuronId, Double> out = new LinkedHashMap<>();
        out.put(null, scale * dot(row(trace.embedding().toFloatArray(), position), key));
        int lastAttention = v.kind() == NeuronKind.FFN ? v.layer() : v.layer() - 1;
        for (int l = 0; l <= lastAttention; l++) {
            float[] pattern = trace.pattern(l).toFloatArray();
            float[] value = trace.value(l).toFloatArray();
            float[] wO = model.weights().base().layer(l).wO().toFloatArray();
            for (int j = 0; j < c.nHeads(); j++) {
                for (int e = 0; e < dh; e++) {
                    double projected = 0;
                    for (int i = 0; i < d; i++) {
                        projected += wO[(j * dh + e) * d + i] * key[i];
                    }
                    for (int p = 0; p <= position; p++) {
                        double coefficient = (double) pattern[(j * seq + position) * seq + p]
                                * value[(j * seq + p) * dh + e];
                        out.put(NeuronId.attention(l, j, e, p, position, dh), scale * coefficient * projected);
                    }
                }
            }
        }
        for (int l = 0; l < v.layer(); l++) {
            float[] m = trace.ffnCoefficients(l).get(position).toFloatArray();
            float[] down = model.weights().base().layer(l).wDown().toFloatArray();
            for (int k = 0; k < c.dFfn(); k++) {
                double projected = 0;
                for (int i = 0; i < d; i++) {
                    projected += down[k * d + i] * key[i];
                }
                out.put(NeuronId.ffn(l, k, position), scale * m[k] * projected);
            }
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private double[] row(float[] matrix, int r) {
        int d = c.dModel();
        double[] out = new double[d];
        for (int i = 0; i < d; i++) {
            out[i] = matrix[r * d + i];
        }
        return out;
    }
}
