package dev.engram.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * How this process multiplies activations by a half-precision matrix ({@link Precision}). libtorch's CPU kernels
 * compute F16 products at speed only on some CPUs: on an AMD EPYC with AVX2 and F16C but no AVX-512, [16, 2048] ·
 * [2048, 8192] took 1,970 ms in F16 against 36 ms widened to F32 first (BENCHMARKS.md, issue 30). So the choice is
 * measured, once per process, on a small product of each kind; {@code -Dengram.half.products=in_half|widened} fixes it.
 */
public enum HalfProducts {
    /** The input rounded to F16 and multiplied by the half matrix in libtorch's F16 kernel. */
    IN_HALF,
    /** The half matrix widened to F32 a slab of rows at a time, then multiplied in F32. */
    WIDENED;

    private static volatile HalfProducts chosen;

    /** This process's choice: the property's, else the faster of the two on a [16, 512] · [512, 1024] product. */
    public static HalfProducts current() {
        HalfProducts c = chosen;
        if (c == null) {
            synchronized (HalfProducts.class) {
                if (chosen == null) {
                    String fixed = System.getProperty("engram.half.products");
                    chosen = fixed != null ? valueOf(fixed.toUpperCase(java.util.Locale.ROOT)) : measured();
                }
                c = chosen;
            }
        }
        return c;
    }

    /** Fixes the choice from now on (tests run both ways); null measures again at the next product. */
    public static void use(HalfProducts products) {
        chosen = products;
    }

    private static HalfProducts measured() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray w = m.randomNormal(new Shape(512, 1024)).toType(DataType.FLOAT16, true);
            NDArray x = m.randomNormal(new Shape(16, 512));
            long half = Long.MAX_VALUE;
            long widened = Long.MAX_VALUE;
            for (int run = 0; run < 3; run++) { // the fastest of three each: the first warms the kernels
                long t0 = System.nanoTime();
                x.toType(DataType.FLOAT16, false).matMul(w).toType(DataType.FLOAT32, false);
                long t1 = System.nanoTime();
                x.matMul(w.toType(DataType.FLOAT32, true));
                long t2 = System.nanoTime();
                half = Math.min(half, t1 - t0);
                widened = Math.min(widened, t2 - t1);
            }
            return half <= widened ? IN_HALF : WIDENED;
        }
    }
}
