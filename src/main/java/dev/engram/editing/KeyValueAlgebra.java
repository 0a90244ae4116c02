package dev.engram.editing;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * The closed-form updates of the key-value methods, in doubles, as the papers write them (method.md "The baselines'
 * updates"). The papers' down projection W maps a key k (d_ffn) to an output W k (d); this engine stores it transposed,
 * rows = neurons, so every update here returns ΔW_ours = ΔW_paperᵀ, [d_ffn][d]: row j is the change of neuron j's
 * subvalue. Keys and residuals come one per row: K [m][d_ffn], R [m][d].
 *
 * <p>The d_ffn-wide inverses are never formed per edit: C⁻¹ is computed once per layer ({@link KeyStatistics}), and
 * the per-edit systems (λC + KᵀK, P·KᵀK + αI) differ from it by a rank-m term, so the Woodbury identity
 * (A + U V)⁻¹ = A⁻¹ − A⁻¹U (I + V A⁻¹ U)⁻¹ V A⁻¹ solves them with m × m inverses.
 */
public final class KeyValueAlgebra {
    private KeyValueAlgebra() {
    }

    /** ROME: ΔW = Λ (C⁻¹k*)ᵀ with Λ = (v* − W k*) / ((C⁻¹k*)ᵀ k*); {@code residual} is v* − W k*. */
    public static double[][] rome(double[][] cInverse, double[] kStar, double[] residual) {
        DMatrixRMaj u = times(cInverse, column(kStar)); // u = C⁻¹ k*
        double uk = 0;
        for (int i = 0; i < kStar.length; i++) {
            uk += u.get(i) * kStar[i];
        }
        double[][] out = new double[kStar.length][residual.length];
        for (int j = 0; j < kStar.length; j++) {
            for (int i = 0; i < residual.length; i++) {
                out[j][i] = u.get(j) * residual[i] / uk;
            }
        }
        return out;
    }

    /**
     * MEMIT: Δ = R Kᵀ (λC + K Kᵀ)⁻¹ with keys and residuals as columns; here ΔW_ours = (λC + KᵀK)⁻¹ Kᵀ R, from C⁻¹
     * by Woodbury with A = λC, U = Kᵀ, V = K.
     */
    public static double[][] memit(double[][] cInverse, double lambda, double[][] keys, double[][] residuals) {
        DMatrixRMaj k = new DMatrixRMaj(keys);
        DMatrixRMaj kt = CommonOps_DDRM.transpose(k, null);
        return toArray(solveOnKeys(cInverse, 1 / lambda, kt, k, new DMatrixRMaj(residuals)));
    }

    /** The eigen-decomposition of a symmetric C: eigenvalues and unit eigenvectors (one per row). */
    public record Eigen(double[] values, double[][] vectors) {
    }

    public static Eigen eigen(double[][] c) {
        return NativeLinearAlgebra.eigen(c);
    }

    /**
     * AlphaEdit's projector onto the null space of the preserved keys' second moment: P = Û Ûᵀ over the eigenvectors of
     * C whose eigenvalues are below {@code threshold} (then P k₀ ≈ 0 for the keys C was measured on).
     */
    public static double[][] nullSpaceProjector(double[][] c, double threshold) {
        return nullSpaceProjector(eigen(c), threshold);
    }

    public static double[][] nullSpaceProjector(Eigen eigen, double threshold) {
        int n = eigen.vectors().length == 0 ? 0 : eigen.vectors()[0].length;
        java.util.List<double[]> below = new java.util.ArrayList<>(); // Û's columns, as rows
        for (int e = 0; e < eigen.values().length; e++) {
            if (eigen.values()[e] < threshold) {
                below.add(eigen.vectors()[e]);
            }
        }
        return NativeLinearAlgebra.gram(below.toArray(double[][]::new), n); // Û Ûᵀ = Σ û ûᵀ
    }

    /**
     * AlphaEdit: ΔW_ours = (P (K₁ᵀK₁ + K_pᵀK_p) + α I)⁻¹ P K₁ᵀ R for the new keys K₁ and residuals R, with the keys of
     * earlier edits K_p (may be empty) and the null-space projector P; by Woodbury with A = αI, U = P Kᵀ, V = K for the
     * stacked K = [K₁; K_p]. The result lies in P's range, so a preserved key k₀ with P k₀ = 0 sees no change.
     */
    public static double[][] alphaEdit(double[][] p, double[][] keys, double[][] residuals, double[][] earlierKeys,
            double alpha) {
        double[][] all = new double[keys.length + earlierKeys.length][];
        System.arraycopy(keys, 0, all, 0, keys.length);
        System.arraycopy(earlierKeys, 0, all, keys.length, earlierKeys.length);
        DMatrixRMaj k = new DMatrixRMaj(all);
        DMatrixRMaj pkt = times(p, CommonOps_DDRM.transpose(k, null)); // P Kᵀ, whose first columns are P K₁ᵀ
        return toArray(solveOnKeys(null, 1 / alpha, pkt, k, new DMatrixRMaj(residuals)));
    }

    /** C⁻¹ of a symmetric positive definite C. */
    public static double[][] inverse(double[][] c) {
        return inverse(c, 0);
    }

    /** (C + ridge·I)⁻¹ of a symmetric positive definite C, by Cholesky factorisation (LAPACK). */
    public static double[][] inverse(double[][] c, double ridge) {
        return NativeLinearAlgebra.inverse(c, ridge);
    }

    /** M U for a dense M [n][n] held as rows and a narrow U [n, m], without copying M. */
    static DMatrixRMaj times(double[][] m, DMatrixRMaj u) {
        int cols = u.numCols;
        DMatrixRMaj out = new DMatrixRMaj(m.length, cols);
        double[] sum = new double[cols];
        for (int i = 0; i < m.length; i++) {
            java.util.Arrays.fill(sum, 0);
            double[] row = m[i];
            for (int k = 0; k < row.length; k++) {
                double mik = row[k];
                if (mik != 0) {
                    for (int j = 0, at = k * cols; j < cols; j++, at++) {
                        sum[j] += mik * u.data[at];
                    }
                }
            }
            for (int j = 0; j < cols; j++) {
                out.set(i, j, sum[j]);
            }
        }
        return out;
    }

    /**
     * (A + U V)⁻¹ U_w R, where A⁻¹ = s·M (M null: the identity), U [n, m], V [m, n], R [w, c] with w ≤ m, and U_w is
     * U's first w columns. By the push-through identity (A + U V)⁻¹ U = A⁻¹U (I + V A⁻¹ U)⁻¹, so
     * (A + U V)⁻¹ U_w R = A⁻¹U · [(I + V A⁻¹ U)⁻¹]_{:, :w} · R: one n × n by n × m product, an m × m solve, and no
     * n × n by n × c product (MEMIT: A = λC, U = Kᵀ, V = K, w = m; AlphaEdit: A = αI, U = P Kᵀ, V = K, w = |K₁|).
     */
    static DMatrixRMaj solveOnKeys(double[][] m, double s, DMatrixRMaj u, DMatrixRMaj v, DMatrixRMaj r) {
        int keys = u.numCols;
        DMatrixRMaj aiu = m == null ? u.copy() : times(m, u); // A⁻¹U / s
        CommonOps_DDRM.scale(s, aiu);
        DMatrixRMaj small = CommonOps_DDRM.mult(v, aiu, null); // I + V A⁻¹ U
        for (int i = 0; i < keys; i++) {
            small.add(i, i, 1);
        }
        DMatrixRMaj picked = new DMatrixRMaj(keys, r.numCols); // E_w R: R's rows in U_w's places, zeros below
        CommonOps_DDRM.insert(r, picked, 0, 0);
        DMatrixRMaj x = new DMatrixRMaj(keys, r.numCols);
        if (!CommonOps_DDRM.solve(small, picked, x)) {
            throw new IllegalStateException("singular system in a key-value update");
        }
        return CommonOps_DDRM.mult(aiu, x, null);
    }

    private static DMatrixRMaj column(double[] x) {
        DMatrixRMaj out = new DMatrixRMaj(x.length, 1);
        for (int i = 0; i < x.length; i++) {
            out.set(i, 0, x[i]);
        }
        return out;
    }

    static double[][] toArray(DMatrixRMaj m) {
        double[][] out = new double[m.numRows][m.numCols];
        for (int i = 0; i < m.numRows; i++) {
            for (int j = 0; j < m.numCols; j++) {
                out[i][j] = m.get(i, j);
            }
        }
        return out;
    }

    /** a − b. */
    static double[] minus(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
