package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The key-value updates against their published formulas computed literally here, with a Gauss-Jordan inverse of the
 * whole d_ffn-wide system written in this test (no EJML, no Woodbury), in the papers' orientation W [d][d_ffn]; and
 * AlphaEdit's defining property: keys the statistics were measured on keep their outputs.
 */
class KeyValueAlgebraTest {
    private static final int D_FFN = 12;
    private static final int D = 5;
    private final Random random = new Random(7);

    @Test
    void romeIsLambdaTimesWhitenedKeyAndHitsVStar() {
        double[][] c = spd(D_FFN);
        double[] kStar = vector(D_FFN);
        double[] residual = vector(D); // v* − W k*
        double[][] cInv = inverse(c);
        // paper: ΔW = Λ (C⁻¹k*)ᵀ, Λ = (v* − W k*) / ((C⁻¹k*)ᵀ k*)  — ΔW [d][d_ffn]
        double[] u = times(cInv, kStar);
        double uk = KeyValueAlgebra.dot(u, kStar);
        double[][] expected = new double[D][D_FFN];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D_FFN; j++) {
                expected[i][j] = residual[i] / uk * u[j];
            }
        }
        double[][] ours = KeyValueAlgebra.rome(cInv, kStar, residual);
        assertClose(expected, transpose(ours), 1e-9);
        // ΔW k* = v* − W k*: the new output at k* is v*
        assertClose(new double[][] {residual}, new double[][] {times(transpose(ours), kStar)}, 1e-9);
    }

    @Test
    void memitIsTheCovarianceWeightedLeastSquaresSolution() {
        double[][] c = spd(D_FFN);
        double[][] keys = matrix(3, D_FFN);
        double[][] residuals = matrix(3, D);
        double lambda = 2.5;
        // paper: Δ = R Kᵀ (λC + K Kᵀ)⁻¹ with K [d_ffn][n], R [d][n]
        double[][] k = transpose(keys);
        double[][] r = transpose(residuals);
        double[][] system = add(scale(c, lambda), times(k, transpose(k)));
        double[][] expected = times(times(r, transpose(k)), inverse(system));
        double[][] ours = KeyValueAlgebra.memit(inverse(c), lambda, keys, residuals);
        assertClose(expected, transpose(ours), 1e-8);
    }

    @Test
    void alphaEditIsTheProjectedSolutionAndLeavesPreservedKeysAlone() {
        // the preserved keys span 7 of 12 directions: C = K₀ᵀK₀ / N has a 5-dimensional null space
        double[][] k0 = times(matrix(40, 7), matrix(7, D_FFN));
        double[][] c = scale(times(transpose(k0), k0), 1.0 / 40);
        double[][] p = KeyValueAlgebra.nullSpaceProjector(c, 1e-8 * KeyStatistics.trace(c));
        assertClose(p, times(p, p), 1e-9);
        assertClose(p, transpose(p), 1e-9);
        assertEquals(5, Math.round(KeyStatistics.trace(p)), "null-space dimension");
        double[][] keys = matrix(2, D_FFN);
        double[][] residuals = matrix(2, D);
        double[][] earlier = matrix(3, D_FFN);
        double alpha = 10;
        // ours: ΔW = (P (K₁ᵀK₁ + K_pᵀK_p) + α I)⁻¹ P K₁ᵀ R, literally
        double[][] kk = add(times(transpose(keys), keys), times(transpose(earlier), earlier));
        double[][] system = add(times(p, kk), scale(identity(D_FFN), alpha));
        double[][] expected = times(inverse(system), times(p, times(transpose(keys), residuals)));
        double[][] ours = KeyValueAlgebra.alphaEdit(p, keys, residuals, earlier, alpha);
        assertClose(expected, ours, 1e-8);
        // every preserved key's output is unchanged: k₀ᵀ ΔW = 0
        double worst = 0;
        for (double[] row : times(k0, ours)) {
            for (double x : row) {
                worst = Math.max(worst, Math.abs(x));
            }
        }
        assertTrue(worst < 1e-5, "largest output change on a preserved key: " + worst);
        // and the update is not zero: the new keys' outputs move
        assertTrue(Math.abs(times(keys, ours)[0][0]) > 1e-3);
    }

    private double[][] spd(int n) {
        double[][] a = matrix(n + 4, n);
        return add(scale(times(transpose(a), a), 1.0 / (n + 4)), scale(identity(n), 0.1));
    }

    private double[] vector(int n) {
        return matrix(1, n)[0];
    }

    private double[][] matrix(int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = random.nextGaussian();
            }
        }
        return m;
    }

    /** Gauss-Jordan elimination with partial pivoting. */
    static double[][] inverse(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n + i] = 1;
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
                    pivot = r;
                }
            }
            double[] tmp = m[col];
            m[col] = m[pivot];
            m[pivot] = tmp;
            double lead = m[col][col];
            for (int j = 0; j < 2 * n; j++) {
                m[col][j] /= lead;
            }
            for (int r = 0; r < n; r++) {
                if (r != col) {
                    double f = m[r][col];
                    for (int j = 0; j < 2 * n; j++) {
                        m[r][j] -= f * m[col][j];
                    }
                }
            }
        }
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(m[i], n, out[i], 0, n);
        }
        return out;
    }

    static double[][] times(double[][] a, double[][] b) {
        double[][] out = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    out[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return out;
    }

    static double[] times(double[][] a, double[] x) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = KeyValueAlgebra.dot(a[i], x);
        }
        return out;
    }

    static double[][] transpose(double[][] a) {
        double[][] out = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                out[j][i] = a[i][j];
            }
        }
        return out;
    }

    static double[][] add(double[][] a, double[][] b) {
        double[][] out = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                out[i][j] = a[i][j] + b[i][j];
            }
        }
        return out;
    }

    static double[][] scale(double[][] a, double s) {
        double[][] out = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                out[i][j] = a[i][j] * s;
            }
        }
        return out;
    }

    static double[][] identity(int n) {
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            out[i][i] = 1;
        }
        return out;
    }

    static void assertClose(double[][] expected, double[][] actual, double tolerance) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                double scale = Math.max(1, Math.abs(expected[i][j]));
                assertEquals(expected[i][j], actual[i][j], tolerance * scale, "[" + i + "][" + j + "]");
            }
        }
    }
}
