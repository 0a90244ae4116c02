package dev.engram.editing;

import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.CblasUpper;
import static org.bytedeco.openblas.global.openblas.LAPACK_COL_MAJOR;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dpotrf;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dpotri;
import static org.bytedeco.openblas.global.openblas.LAPACKE_dsyevd;
import static org.bytedeco.openblas.global.openblas.cblas_dsyrk;

import org.bytedeco.javacpp.DoublePointer;

/**
 * The d_ffn-cubed steps of the key-value methods, in LAPACK and BLAS (OpenBLAS through JavaCPP): C⁻¹ (ROME, MEMIT) and
 * AlphaEdit's projector. At d_ffn = 8192 EJML's symmetric QR iteration takes hours and a sum of rank-one outer
 * products moves 0.5 GB per eigenvector, where LAPACK's divide and conquer ({@code dsyevd}), its Cholesky inverse
 * ({@code dpotrf}, {@code dpotri}) and one rank-k product ({@code dsyrk}) take minutes. Matrices cross into native
 * memory once each way, a row at a time.
 */
final class NativeLinearAlgebra {
    static {
        // JavaCPP refuses allocations past the Java heap's size (maxBytes) or once the process's resident memory passes
        // twice it (maxPhysicalBytes): the server runs a 512 MiB heap beside weights that libtorch holds outside it, so
        // both limits are lifted unless set explicitly (before JavaCPP's Pointer class reads them).
        for (String limit : new String[] {"org.bytedeco.javacpp.maxBytes", "org.bytedeco.javacpp.maxPhysicalBytes"}) {
            if (System.getProperty(limit) == null) {
                System.setProperty(limit, "0");
            }
        }
    }

    private NativeLinearAlgebra() {
    }

    /**
     * C = V Λ Vᵀ for a symmetric C [n][n]: eigenvalues ascending, unit eigenvectors one per row. LAPACK reads column
     * major; C is symmetric, so its row-major copy is its column-major one, and the eigenvectors LAPACK writes as columns
     * read back, row-major, as rows.
     */
    static KeyValueAlgebra.Eigen eigen(double[][] c) {
        int n = c.length;
        try (DoublePointer a = toNative(c); DoublePointer w = new DoublePointer(n)) {
            int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, (byte) 'V', (byte) 'U', n, a, n, w);
            if (info != 0) {
                throw new IllegalStateException("LAPACK dsyevd failed on the key covariance (info " + info + ")");
            }
            double[] values = new double[n];
            w.get(values);
            return new KeyValueAlgebra.Eigen(values, fromNative(a, n, n));
        }
    }

    /**
     * (C + ridge·I)⁻¹ of a symmetric positive definite C by its Cholesky factor C + ridge·I = UᵀU. LAPACK, column
     * major, fills the upper triangle of its column-major answer: the lower one, read row-major, mirrored here.
     */
    static double[][] inverse(double[][] c, double ridge) {
        int n = c.length;
        try (DoublePointer a = toNative(c)) {
            for (int i = 0; i < n; i++) {
                long at = (long) i * n + i;
                a.put(at, a.get(at) + ridge);
            }
            int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, (byte) 'U', n, a, n);
            if (info > 0) {
                throw new IllegalStateException("the key covariance is not positive definite (LAPACK dpotrf, minor "
                        + info + ")");
            }
            info = info == 0 ? LAPACKE_dpotri(LAPACK_COL_MAJOR, (byte) 'U', n, a, n) : info;
            if (info != 0) {
                throw new IllegalStateException("LAPACK failed to invert the key covariance (info " + info + ")");
            }
            return mirrorLower(fromNative(a, n, n));
        }
    }

    /** G = Uᵀ U for U [k][n] (k rows of length n): the n × n sum of the rows' outer products, Σ_r u_r u_rᵀ. */
    static double[][] gram(double[][] rows, int n) {
        int k = rows.length;
        if (k == 0) {
            return new double[n][n];
        }
        try (DoublePointer u = toNative(rows); DoublePointer g = new DoublePointer((long) n * n)) {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, 1.0, u, n, 0.0, g, n);
            return mirrorUpper(fromNative(g, n, n)); // row-major dsyrk fills the upper triangle
        }
    }

    private static double[][] mirrorUpper(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < i; j++) {
                m[i][j] = m[j][i];
            }
        }
        return m;
    }

    private static double[][] mirrorLower(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) {
                m[i][j] = m[j][i];
            }
        }
        return m;
    }

    private static DoublePointer toNative(double[][] rows) {
        int cols = rows[0].length;
        DoublePointer p = new DoublePointer((long) rows.length * cols);
        for (int r = 0; r < rows.length; r++) {
            p.position((long) r * cols).put(rows[r], 0, cols);
        }
        return p.position(0);
    }

    private static double[][] fromNative(DoublePointer p, int rows, int cols) {
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            p.position((long) r * cols).get(out[r], 0, cols);
        }
        p.position(0);
        return out;
    }
}
