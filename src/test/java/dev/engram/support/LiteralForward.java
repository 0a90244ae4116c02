package dev.engram.support;

import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import java.util.function.DoubleUnaryOperator;

/**
 * A rotary, RMSNorm, gated-FFN transformer written out in plain Java doubles, one loop per formula, for the families
 * that share Llama's blocks. It reads the weights the runtime holds (norm gains γ as held, [in, out] matrices) and
 * takes the parts that differ between families as arguments, so a test names them itself rather than reading them
 * from the engine's family description. Rotary pairs use the rotate-half layout (x_i, x_{i + d_head/2}).
 */
public final class LiteralForward {
    /** tanh-GELU, 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))). */
    public static final DoubleUnaryOperator GELU_TANH =
            x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    /** SiLU, x / (1 + e^(−x)). */
    public static final DoubleUnaryOperator SILU = x -> x / (1 + Math.exp(-x));

    private final ModelConfig c;
    private final ModelWeights w;
    private final DoubleUnaryOperator gateActivation;
    private final double embeddingScale;

    /**
     * @param gateActivation σ of m = σ(x·W_gate) ⊙ (x·W_up)
     * @param embeddingScale c of h^0 = c·W_E[t]
     */
    public LiteralForward(Model model, DoubleUnaryOperator gateActivation, double embeddingScale) {
        this.c = model.config();
        this.w = model.weights().base();
        this.gateActivation = gateActivation;
        this.embeddingScale = embeddingScale;
    }

    /** The logits after the last token, [V]. */
    public double[] lastLogits(int[] tokens) {
        int n = tokens.length;
        int d = c.dModel();
        float[] embedding = w.tokenEmbedding().toFloatArray();
        double[][] h = new double[n][d];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                h[t][i] = embeddingScale * embedding[tokens[t] * d + i];
            }
        }
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layer(l);
            double[][] a = new double[n][];
            for (int t = 0; t < n; t++) {
                a[t] = rmsNorm(h[t], lw.attnNormWeight().toFloatArray());
            }
            double[][] attention = attention(lw, a);
            double[][] mid = new double[n][];
            for (int t = 0; t < n; t++) {
                mid[t] = add(h[t], times(attention[t], lw.wO().toFloatArray(), c.qDim(), d));
            }
            for (int t = 0; t < n; t++) {
                double[] b = rmsNorm(mid[t], lw.ffnNormWeight().toFloatArray());
                double[] gate = times(b, lw.wGate().toFloatArray(), d, c.dFfn());
                double[] up = times(b, lw.wUp().toFloatArray(), d, c.dFfn());
                double[] m = new double[c.dFfn()];
                for (int k = 0; k < m.length; k++) {
                    m[k] = gateActivation.applyAsDouble(gate[k]) * up[k];
                }
                h[t] = add(mid[t], times(m, lw.wDown().toFloatArray(), c.dFfn(), d));
            }
        }
        double[] last = rmsNorm(h[n - 1], w.finalNormWeight().toFloatArray());
        return times(last, w.unembedding().toFloatArray(), d, c.vocabSize());
    }

    /** z_t = concat_j Σ_s α^j_{t,s}·v^{g(j)}_s, with α^j = softmax over s ≤ t of q^j_t·k^{g(j)}_s / sqrt(d_head). */
    private double[][] attention(LayerWeights lw, double[][] a) {
        int n = a.length;
        int d = c.dModel();
        int dh = c.headDim();
        double[][] q = new double[n][];
        double[][] k = new double[n][];
        double[][] v = new double[n][];
        for (int t = 0; t < n; t++) {
            q[t] = rotate(times(a[t], lw.wQ().toFloatArray(), d, c.qDim()), c.nHeads(), t);
            k[t] = rotate(times(a[t], lw.wK().toFloatArray(), d, c.kvDim()), c.nKvHeads(), t);
            v[t] = times(a[t], lw.wV().toFloatArray(), d, c.kvDim());
        }
        double[][] z = new double[n][c.qDim()];
        for (int j = 0; j < c.nHeads(); j++) {
            int g = j / (c.nHeads() / c.nKvHeads());
            for (int t = 0; t < n; t++) {
                double[] scores = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    for (int e = 0; e < dh; e++) {
                        scores[s] += q[t][j * dh + e] * k[s][g * dh + e];
                    }
                    scores[s] /= Math.sqrt(dh);
                    max = Math.max(max, scores[s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    scores[s] = Math.exp(scores[s] - max);
                    sum += scores[s];
                }
                for (int s = 0; s <= t; s++) {
                    for (int e = 0; e < dh; e++) {
                        z[t][j * dh + e] += scores[s] / sum * v[s][g * dh + e];
                    }
                }
            }
        }
        return z;
    }

    /** Each head's pair (x_i, x_{i + d_head/2}) rotated by θ = t·base^(−2i/d_head). */
    private double[] rotate(double[] x, int heads, int t) {
        int dh = c.headDim();
        double[] out = x.clone();
        for (int j = 0; j < heads; j++) {
            for (int i = 0; i < dh / 2; i++) {
                double theta = t * Math.pow(c.ropeTheta(), -2.0 * i / dh);
                double x1 = x[j * dh + i];
                double x2 = x[j * dh + i + dh / 2];
                out[j * dh + i] = x1 * Math.cos(theta) - x2 * Math.sin(theta);
                out[j * dh + i + dh / 2] = x2 * Math.cos(theta) + x1 * Math.sin(theta);
            }
        }
        return out;
    }

    /** γ ⊙ x / sqrt(mean(x²) + ε). */
    private double[] rmsNorm(double[] x, float[] gamma) {
        double sq = 0;
        for (double v : x) {
            sq += v * v / x.length;
        }
        double r = Math.sqrt(sq + c.normEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = gamma[i] * x[i] / r;
        }
        return out;
    }

    /** x·W for W stored [in, out] row-major. */
    private static double[] times(double[] x, float[] matrix, int in, int out) {
        double[] y = new double[out];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                y[o] += x[i] * matrix[i * out + o];
            }
        }
        return y;
    }

    private static double[] add(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }
}
