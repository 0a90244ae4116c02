package dev.engram.evaluation;

import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Param;
import dev.engram.support.ReferenceMath;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Every FFN baseline score of method.md for every FFN neuron at one position, by brute force in plain Java doubles
 * (Llama family, FROZEN final norm): each neuron's vector v = m_k · u_k is formed, read through γ_f / r* and W_U over
 * the whole vocabulary, and scored. Shares nothing with the engine but the trace and the weights.
 */
final class FfnBaselineReference {
    private final ModelConfig c;
    private final float[] unembedding; // [d, V]
    private final float[] gamma;
    private final double frozenScale;
    private final int gold;
    private final Model model;
    private final Trace trace;
    private final int t;

    FfnBaselineReference(Model model, Trace trace, int gold) {
        this.c = model.config();
        this.model = model;
        this.trace = trace;
        this.t = trace.lastPosition();
        this.gold = gold;
        this.unembedding = model.weights().base().unembedding().toFloatArray();
        this.gamma = model.weights().base().finalNormWeight().toFloatArray();
        double[] last = row(trace.residPost(c.nLayers() - 1).toFloatArray(), t, c.dModel());
        double sq = 0;
        for (double v : last) {
            sq += v * v;
        }
        this.frozenScale = Math.sqrt(sq / last.length + c.normEps());
    }

    record Scored(int layer, int neuron, double score) {
    }

    /** The top k by {@code method}, best first; RANK breaks ties by the larger ‖v‖. */
    List<Scored> top(FfnRankingMethod method, int k) {
        List<Scored> all = new ArrayList<>();
        List<double[]> tieBreak = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            float[] down = model.weights().base().layer(l).matrix(Param.FFN_DOWN).toFloatArray(); // [dFfn, d]
            float[] m = trace.ffnCoefficients(l).get(t).toFloatArray();
            double[] base = row(trace.residMid(l).toFloatArray(), t, c.dModel());
            double[] baseLogits = readout(base);
            double baseLogProb = ReferenceMath.logSoftmax(baseLogits, gold);
            for (int k2 = 0; k2 < c.dFfn(); k2++) {
                double[] u = new double[c.dModel()];
                double norm = 0;
                for (int i = 0; i < u.length; i++) {
                    u[i] = down[k2 * c.dModel() + i];
                    norm += u[i] * u[i];
                }
                norm = Math.sqrt(norm);
                double[] su = readout(u); // S(u), linear: S(v) = m · S(u)
                double[] sv = new double[su.length];
                double[] sBasePlusV = new double[su.length];
                for (int v = 0; v < su.length; v++) {
                    sv[v] = m[k2] * su[v];
                    sBasePlusV[v] = baseLogits[v] + sv[v];
                }
                double lpWith = ReferenceMath.logSoftmax(sBasePlusV, gold);
                double score = switch (method) {
                    case LOG_PROB_INCREASE -> lpWith - baseLogProb;
                    case LOG_PROB -> ReferenceMath.logSoftmax(sv, gold);
                    case PROB_INCREASE -> Math.exp(lpWith) - Math.exp(baseLogProb);
                    case NORM -> Math.abs(m[k2]) * norm;
                    case COEFFICIENT -> m[k2];
                    case COEFFICIENT_TIMES_NORM -> m[k2] * norm;
                    case RANK -> m[k2] == 0 ? Double.NEGATIVE_INFINITY : -rank(sv, gold);
                    case COEFFICIENT_OVER_RANK -> m[k2] / rank(su, gold);
                    case RANDOM -> throw new IllegalArgumentException("no reference for random");
                };
                all.add(new Scored(l, k2, score));
                tieBreak.add(new double[] {Math.abs(m[k2]) * norm});
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingDouble(i -> -all.get(i).score())
                .thenComparingDouble(i -> method == FfnRankingMethod.RANK ? -tieBreak.get(i)[0] : 0)
                .thenComparingInt(i -> all.get(i).layer()).thenComparingInt(i -> all.get(i).neuron()));
        return order.stream().limit(k).map(all::get).toList();
    }

    /** 1 + #{v : x_v > x_gold}. */
    static int rank(double[] x, int gold) {
        int above = 0;
        for (double v : x) {
            if (v > x[gold]) {
                above++;
            }
        }
        return above + 1;
    }

    /** S(x) = W_U · (γ_f ⊙ x / r*). */
    private double[] readout(double[] x) {
        int vocab = c.vocabSize();
        double[] out = new double[vocab];
        for (int i = 0; i < x.length; i++) {
            double g = gamma[i] * x[i] / frozenScale;
            for (int v = 0; v < vocab; v++) {
                out[v] += g * unembedding[i * vocab + v];
            }
        }
        return out;
    }

    private static double[] row(float[] flat, int row, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            out[i] = flat[row * width + i];
        }
        return out;
    }
}
