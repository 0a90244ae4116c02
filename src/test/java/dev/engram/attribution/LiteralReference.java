package dev.engram.attribution;

import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelFamily;
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
        this.unembedding = model.weights().unembedding().toFloatArray();
        this.gamma = model.weights().finalNormWeight().toFloatArray();
        this.beta = model.weights().finalNormBias() == null ? null : model.weights().finalNormBias().toFloatArray();
        this.frozenScale = scale(row(trace.residPost(c.nLayers() - 1).toFloatArray(), t));
    }

    /** log p(w | x) with N_f per the mode. */
    double logProb(double[] x) {
        int d = c.dModel();
        int vocab = c.vocabSize();
        double mean = 0;
        if (c.family() == ModelFamily.GPT2) {
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
        double max = Double.NEGATIVE_INFINITY;
        for (double z : logits) {
            max = Math.max(max, z);
        }
        double sum = 0;
        for (double z : logits) {
            sum += Math.exp(z - max);
        }
        return logits[w] - max - Math.log(sum);
    }

    /** RMS or LayerNorm scale of x. */
    private double scale(double[] x) {
        double mean = 0;
        if (c.family() == ModelFamily.GPT2) {
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
            LayerWeights lw = model.weights().layer(l);
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

    private double[] row(float[] matrix, int r) {
        int d = c.dModel();
        double[] out = new double[d];
        for (int i = 0; i < d; i++) {
            out[i] = matrix[r * d + i];
        }
        return out;
    }
}
