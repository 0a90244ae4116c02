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
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

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
        double[] muP = mean(positives);
        double[] muN = mean(negatives);
        // w = (Σ_N + ε·tr(Σ_N)/d·I)⁻¹ (μ_P − μ_N), Σ_N = (1/|N|) Σ_{x ∈ N} (x − μ_N)(x − μ_N)ᵀ
        List<double[]> centred = new ArrayList<>();
        for (double[] x : negatives) {
            centred.add(KeyValueAlgebra.minus(x, muN));
        }
        double[] w = ridgeSolve(centred, negatives.size(), ridge, KeyValueAlgebra.minus(muP, muN));
        // c = (XᵀX + 10⁻³·tr(XᵀX)/d·I)⁻¹ Xᵀ1 over every input
        List<double[]> all = new ArrayList<>(positives);
        all.addAll(negatives);
        double[] c = ridgeSolve(all, 1, 1e-3, sum(all));
        double minP = positives.stream().mapToDouble(x -> KeyValueAlgebra.dot(w, x) / KeyValueAlgebra.dot(c, x))
                .min().orElseThrow();
        double maxN = negatives.stream().mapToDouble(x -> KeyValueAlgebra.dot(w, x) / KeyValueAlgebra.dot(c, x))
                .max().orElseThrow();
        double meanP = KeyValueAlgebra.dot(w, muP) / KeyValueAlgebra.dot(c, muP);
        double meanN = KeyValueAlgebra.dot(w, muN) / KeyValueAlgebra.dot(c, muN);
        // τ halfway between the subject's lowest score and the others' highest; where they overlap, between the means
        double tau = minP > maxN ? (minP + maxN) / 2 : (meanP + meanN) / 2;
        double a = sharpness / Math.max(1e-9, meanP - tau);
        double[] gate = new double[w.length];
        for (int i = 0; i < w.length; i++) {
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

    private static double[] sum(List<double[]> xs) {
        double[] out = new double[xs.get(0).length];
        for (double[] x : xs) {
            for (int i = 0; i < out.length; i++) {
                out[i] += x[i];
            }
        }
        return out;
    }

    /**
     * y = (XᵀX/s + ρI)⁻¹ b for X with rows {@code xs} [n][d] and ρ = {@code relative}·tr(XᵀX/s)/d. Where n < d (a
     * handful of inputs against d = 2048 at 1B) in the dual form, by Woodbury with A = ρI, U = Xᵀ, C = I/s, V = X:
     * y = (1/ρ)(b − Xᵀ (sρI + XXᵀ)⁻¹ X b), an n × n system instead of a d × d one.
     */
    static double[] ridgeSolve(List<double[]> xs, double s, double relative, double[] b) {
        int n = xs.size();
        int d = b.length;
        double trace = 0;
        for (double[] x : xs) {
            trace += KeyValueAlgebra.dot(x, x);
        }
        double rho = relative * trace / s / d;
        if (n >= d) {
            double[][] a = new double[d][d];
            for (double[] x : xs) {
                for (int i = 0; i < d; i++) {
                    double xi = x[i] / s;
                    double[] row = a[i];
                    for (int k = 0; k < d; k++) {
                        row[k] += xi * x[k];
                    }
                }
            }
            for (int i = 0; i < d; i++) {
                a[i][i] += rho;
            }
            return choleskySolve(a, b);
        }
        double[][] small = new double[n][n]; // sρI + XXᵀ
        double[] xb = new double[n];
        for (int i = 0; i < n; i++) {
            xb[i] = KeyValueAlgebra.dot(xs.get(i), b);
            for (int k = 0; k <= i; k++) {
                small[i][k] = small[k][i] = KeyValueAlgebra.dot(xs.get(i), xs.get(k));
            }
            small[i][i] += s * rho;
        }
        double[] z = choleskySolve(small, xb);
        double[] y = b.clone();
        for (int i = 0; i < n; i++) {
            double[] x = xs.get(i);
            for (int k = 0; k < d; k++) {
                y[k] -= x[k] * z[i];
            }
        }
        for (int k = 0; k < d; k++) {
            y[k] /= rho;
        }
        return y;
    }

    private static double[] choleskySolve(double[][] a, double[] b) {
        LinearSolverDense<DMatrixRMaj> cholesky =
                LinearSolverFactory_DDRM.chol(a.length);
        if (!cholesky.setA(new DMatrixRMaj(a))) {
            throw new IllegalStateException("the detector's ridge system is not positive definite");
        }
        DMatrixRMaj y = new DMatrixRMaj(b.length, 1);
        cholesky.solve(new DMatrixRMaj(b.length, 1, true, b), y);
        return y.data;
    }

    static List<int[]> cutAfterSubject(List<int[]> prompts, int fromEnd) {
        List<int[]> out = new ArrayList<>();
        for (int[] p : prompts) {
            out.add(Arrays.copyOf(p, p.length - fromEnd));
        }
        return out;
    }
}
