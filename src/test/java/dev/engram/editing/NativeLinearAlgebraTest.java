package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * LAPACK's eigen-decomposition, Cholesky inverse and BLAS's Gram product against slow, obvious references written
 * here: cyclic Jacobi rotations for the eigenvalues, Gauss-Jordan elimination, and a triple loop over outer products. n = 60 is past dsyevd's switch to divide and
 * conquer (25).
 */
class NativeLinearAlgebraTest {
    private static final int N = 60;
    private final Random random = new Random(11);

    @Test
    void eigenMatchesJacobiAndEachPairSolvesCvEqualsLambdaV() {
        double[][] c = covariance(N, 45); // rank 45: fifteen eigenvalues at zero, as the null space AlphaEdit keeps
        KeyValueAlgebra.Eigen eigen = KeyValueAlgebra.eigen(c);
        double[] expected = jacobiEigenvalues(c);
        assertEquals(N, eigen.values().length);
        for (int e = 0; e < N; e++) {
            assertEquals(expected[e], eigen.values()[e], 1e-9, "eigenvalue " + e);
            double[] v = eigen.vectors()[e];
            assertEquals(1, KeyValueAlgebra.dot(v, v), 1e-9, "unit eigenvector " + e);
            for (int i = 0; i < N; i++) {
                assertEquals(eigen.values()[e] * v[i], KeyValueAlgebra.dot(c[i], v), 1e-9, "(C v)_" + i + " of " + e);
            }
            for (int f = 0; f < e; f++) {
                assertEquals(0, KeyValueAlgebra.dot(v, eigen.vectors()[f]), 1e-9, "orthogonal " + e + ", " + f);
            }
        }
        assertTrue(eigen.values()[14] < 1e-9 && eigen.values()[15] > 1e-3, Arrays.toString(eigen.values()));
    }

    @Test
    void inverseMatchesGaussJordanOnTheRidgedMatrix() {
        double[][] c = covariance(N, 45); // singular: only the ridge makes it invertible
        double ridge = 0.05;
        double[][] ridged = new double[N][];
        for (int i = 0; i < N; i++) {
            ridged[i] = c[i].clone();
            ridged[i][i] += ridge;
        }
        double[][] expected = KeyValueAlgebraTest.inverse(ridged);
        double[][] inverse = KeyValueAlgebra.inverse(c, ridge);
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                assertEquals(expected[i][j], inverse[i][j], 1e-9 * (1 + Math.abs(expected[i][j])), "[" + i + "][" + j
                        + "]");
            }
        }
    }

    @Test
    void gramIsTheSumOfTheRowsOuterProducts() {
        double[][] rows = new double[7][N];
        for (double[] row : rows) {
            for (int j = 0; j < N; j++) {
                row[j] = random.nextGaussian();
            }
        }
        double[][] gram = NativeLinearAlgebra.gram(rows, N);
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                double sum = 0;
                for (double[] u : rows) {
                    sum += u[i] * u[j];
                }
                assertEquals(sum, gram[i][j], 1e-12, "G[" + i + "][" + j + "]");
            }
        }
        assertEquals(0, NativeLinearAlgebra.gram(new double[0][], 3)[2][1], "no rows: the zero matrix");
    }

    /** (1/m) Kᵀ K for m Gaussian keys confined to a rank-r subspace. */
    private double[][] covariance(int n, int rank) {
        double[][] basis = new double[rank][n];
        for (double[] b : basis) {
            for (int j = 0; j < n; j++) {
                b[j] = random.nextGaussian();
            }
        }
        int m = 2 * n;
        double[][] c = new double[n][n];
        for (int t = 0; t < m; t++) {
            double[] k = new double[n];
            for (double[] b : basis) {
                double w = random.nextGaussian();
                for (int j = 0; j < n; j++) {
                    k[j] += w * b[j];
                }
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    c[i][j] += k[i] * k[j] / m;
                }
            }
        }
        return c;
    }

    /** Cyclic Jacobi: rotate away every off-diagonal entry until none is left; the diagonal, sorted, is the answer. */
    private static double[] jacobiEigenvalues(double[][] c) {
        int n = c.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = c[i].clone();
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += a[p][q] * a[p][q];
                }
            }
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    // the angle θ with tan 2θ = 2 a_pq / (a_qq − a_pp) zeroes a_pq
                    double theta = 0.5 * Math.atan2(2 * a[p][q], a[q][q] - a[p][p]);
                    double cos = Math.cos(theta);
                    double sin = Math.sin(theta);
                    for (int k = 0; k < n; k++) { // A ← Jᵀ A J: columns, then rows
                        double akp = a[k][p];
                        double akq = a[k][q];
                        a[k][p] = cos * akp - sin * akq;
                        a[k][q] = sin * akp + cos * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k];
                        double aqk = a[q][k];
                        a[p][k] = cos * apk - sin * aqk;
                        a[q][k] = sin * apk + cos * aqk;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = a[i][i];
        }
        Arrays.sort(values);
        return values;
    }
}
