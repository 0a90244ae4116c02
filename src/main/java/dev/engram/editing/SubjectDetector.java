package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.Norms;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The subkey of a unit that fires for one subject and stays silent elsewhere. A gated FFN unit j computes
 * m_j(x) = σ(g_j·x) · (u_j·x) of the FFN input x = norm(h_mid). With
 * <pre>
 *   s(x) = w·x,  w = (Σ_N + εI)⁻¹ (μ_P − μ_N)          (Fisher's discriminant: subject P against the rest N)
 *   1 ≈ c·x,     c = argmin Σ_{x ∈ P∪N} (c·x − 1)²     (the norm leaves every x a near-constant projection: a bias)
 *   g_j = a (w − τ c),  u_j = c
 * </pre>
 * g_j·x ≈ a (s(x) − τ) with s(x) = w·x / c·x: positive past the threshold τ, which sits halfway between the subject's
 * lowest score and the others' highest (between the two means where they overlap), and the gate σ shuts the unit below
 * it. a sets the subject's mean pre-activation to {@code sharpness}.
 */
final class SubjectDetector {
    /** The subkey (gate and up columns, [d] each) and the coefficient it gives the subject's mean input. */
    record Subkey(double[] gate, double[] up, double subjectCoefficient) {
    }

    private SubjectDetector() {
    }

    /** FFN inputs at layer l of each sequence's last token ({@code lastOnly}) or of every token [n][d]. */
    static List<double[]> inputs(Model model, List<int[]> sequences, int layer, boolean lastOnly) {
        List<double[]> out = new ArrayList<>();
        if (sequences.isEmpty()) {
            return out;
        }
        PackedSequences packed = PackedSequences.of(sequences);
        LayerWeights w = model.weights().base().layer(layer);
        try (Trace trace = ForwardPass.of(model).trace(packed); NDScope scope = new NDScope()) {
            NDArray x = Norms.apply(model.config(), trace.residMid(layer), w.ffnNormWeight(), w.ffnNormBias());
            for (int s = 0; s < sequences.size(); s++) {
                int n = sequences.get(s).length;
                for (int t = lastOnly ? n - 1 : 0; t < n; t++) {
                    out.add(ValueTarget.toDoubles(x.get(packed.row(s, t)).toFloatArray()));
                }
            }
        }
        return out;
    }

    static Subkey design(List<double[]> positives, List<double[]> negatives, double ridge, double sharpness) {
        int d = positives.get(0).length;
        double[] muP = mean(positives);
        double[] muN = mean(negatives);
        double[][] sigma = new double[d][d];
        for (double[] x : negatives) {
            for (int i = 0; i < d; i++) {
                double xi = x[i] - muN[i];
                for (int k = 0; k < d; k++) {
                    sigma[i][k] += xi * (x[k] - muN[k]) / negatives.size();
                }
            }
        }
        addRidge(sigma, ridge);
        double[] w = solve(sigma, KeyValueAlgebra.minus(muP, muN));
        // c = (XᵀX + εI)⁻¹ Xᵀ1 over every input
        List<double[]> all = new ArrayList<>(positives);
        all.addAll(negatives);
        double[][] gram = new double[d][d];
        double[] rhs = new double[d];
        for (double[] x : all) {
            for (int i = 0; i < d; i++) {
                rhs[i] += x[i];
                for (int k = 0; k < d; k++) {
                    gram[i][k] += x[i] * x[k];
                }
            }
        }
        addRidge(gram, 1e-3);
        double[] c = solve(gram, rhs);
        double minP = positives.stream().mapToDouble(x -> KeyValueAlgebra.dot(w, x) / KeyValueAlgebra.dot(c, x))
                .min().orElseThrow();
        double maxN = negatives.stream().mapToDouble(x -> KeyValueAlgebra.dot(w, x) / KeyValueAlgebra.dot(c, x))
                .max().orElseThrow();
        double meanP = KeyValueAlgebra.dot(w, muP) / KeyValueAlgebra.dot(c, muP);
        double meanN = KeyValueAlgebra.dot(w, muN) / KeyValueAlgebra.dot(c, muN);
        // τ halfway between the subject's lowest score and the others' highest; where they overlap, between the means
        double tau = minP > maxN ? (minP + maxN) / 2 : (meanP + meanN) / 2;
        double a = sharpness / Math.max(1e-9, meanP - tau);
        double[] gate = new double[d];
        for (int i = 0; i < d; i++) {
            gate[i] = a * (w[i] - tau * c[i]);
        }
        return new Subkey(gate, c, coefficient(gate, c, muP));
    }

    /** m(x) = σ(g·x)·(u·x) with σ = SiLU. */
    static double coefficient(double[] gate, double[] up, double[] x) {
        double z = KeyValueAlgebra.dot(gate, x);
        return z / (1 + Math.exp(-z)) * KeyValueAlgebra.dot(up, x);
    }

    private static double[] mean(List<double[]> xs) {
        double[] out = new double[xs.get(0).length];
        for (double[] x : xs) {
            for (int i = 0; i < out.length; i++) {
                out[i] += x[i] / xs.size();
            }
        }
        return out;
    }

    private static void addRidge(double[][] m, double relative) {
        double ridge = relative * KeyStatistics.trace(m) / m.length;
        for (int i = 0; i < m.length; i++) {
            m[i][i] += ridge;
        }
    }

    private static double[] solve(double[][] a, double[] b) {
        double[][] inv = KeyValueAlgebra.inverse(a);
        double[] out = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = KeyValueAlgebra.dot(inv[i], b);
        }
        return out;
    }

    static List<int[]> cutAfterSubject(List<int[]> prompts, int fromEnd) {
        List<int[]> out = new ArrayList<>();
        for (int[] p : prompts) {
            out.add(Arrays.copyOf(p, p.length - fromEnd));
        }
        return out;
    }
}
