package dev.engram.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Both ways of multiplying by a half matrix against the product written out in doubles over the matrix's F16 values:
 * x·W and W·k, on a matrix of 4,100 × 4,100 (16.8 M elements: two slabs when widened), and on a small one; and no
 * array left behind in the matrix's manager.
 */
class HalfProductsTest {
    private static final int N = 4100;

    @AfterEach
    void measureAgain() {
        HalfProducts.use(null);
    }

    @Test
    void widenedSlabsGiveTheF32ProductOfTheHalfValues() {
        assertProducts(HalfProducts.WIDENED, N, 1e-4);
        assertProducts(HalfProducts.WIDENED, 48, 1e-5);
    }

    @Test
    void inHalfGivesTheProductWithinHalfPrecision() {
        assertProducts(HalfProducts.IN_HALF, 48, 5e-3);
    }

    @Test
    void theMeasuredChoiceIsOneOfTheTwo() {
        HalfProducts.use(null);
        assertTrue(HalfProducts.current() != null);
    }

    private static void assertProducts(HalfProducts products, int n, double relative) {
        HalfProducts.use(products);
        try (NDManager m = NDManager.newBaseManager("PyTorch"); NDManager base = m.newSubManager()) {
            NDArray w = base.randomNormal(0, 0.02f, new Shape(n, n), DataType.FLOAT32);
            w = w.toType(DataType.FLOAT16, true);
            float[] wv = w.toType(DataType.FLOAT32, true).toFloatArray();
            NDArray x = m.randomNormal(new Shape(2, n));
            float[] xv = x.toFloatArray();
            long arrays = base.getManagedArrays().size(); // the model's manager, in the engine
            float[] xw = Precision.times(x, w).toFloatArray();
            float[] wk = Precision.timesRight(w, x.transpose()).toFloatArray(); // W·xᵀ [n, 2]
            assertEquals(arrays, base.getManagedArrays().size(), products + ": nothing left in the matrix's manager");
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < n; j += 97) {
                    double right = 0; // (x W)[r][j] = Σ_i x[r][i] W[i][j]
                    double left = 0; // (W xᵀ)[j][r] = Σ_i W[j][i] x[r][i]
                    for (int i = 0; i < n; i++) {
                        right += (double) xv[r * n + i] * wv[i * n + j];
                        left += (double) wv[j * n + i] * xv[r * n + i];
                    }
                    double tolerance = relative * Math.sqrt(n) * 0.02 + 1e-6;
                    assertEquals(right, xw[r * n + j], tolerance, products + " (xW)[" + r + "][" + j + "]");
                    assertEquals(left, wk[j * 2 + r], tolerance, products + " (Wk)[" + j + "][" + r + "]");
                }
            }
        }
    }
}
