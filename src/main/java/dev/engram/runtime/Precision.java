package dev.engram.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The one place where a weight's storage precision meets the F32 computation. A checkpoint stored in F16 or BF16 keeps its
 * matrices in F16 ({@code runtime.load.TensorReader}); the residual stream,
 * norms, attention, softmax and every attribution score stay F32. A product with a half matrix is computed one of two
 * ways ({@link HalfProducts}, chosen once per process by timing both): where the CPU's libtorch multiplies in F16 at
 * speed, the input rounded to F16, the product accumulated there, the result widened to F32 (an autocast); where it
 * does not, the matrix widened a slab of rows at a time and multiplied in F32. Never a whole F32 copy of a large matrix.
 * Vectors read out of a half matrix (subvalues, subkeys, embedding rows, unembedding columns) are widened to F32 as
 * they are read.
 */
public final class Precision {
    private static final ThreadLocal<Boolean> TRAINING = ThreadLocal.withInitial(() -> false);
    private static final ThreadLocal<WidenedCopies> KEPT = new ThreadLocal<>();

    private Precision() {
    }

    /** While open, this thread's products are differentiable ones; closing restores what was there before. */
    public static final class Training implements AutoCloseable {
        private final boolean previous;

        private Training(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            TRAINING.set(previous);
        }
    }

    /**
     * The F32 copies of half matrices that one training run takes, kept from its first step to its end so that each
     * step reads them instead of widening every matrix again (the copies the backward pass needs are held through each
     * step anyway). Closing frees them and restores the thread's previous set.
     */
    public static final class WidenedCopies implements AutoCloseable {
        private final Map<NDArray, NDArray> copies = new IdentityHashMap<>();
        private final WidenedCopies previous;
        private NDManager manager;

        private WidenedCopies(WidenedCopies previous) {
            this.previous = previous;
        }

        private NDArray of(NDArray w) {
            return copies.computeIfAbsent(w, half -> {
                NDArray wide = half.toType(DataType.FLOAT32, true);
                NDScope.unregister(wide); // a step's scope must not free what the next step reads
                if (manager == null) {
                    manager = half.getManager().newSubManager();
                }
                wide.attach(manager);
                return wide;
            });
        }

        @Override
        public void close() {
            if (manager != null) {
                manager.close();
            }
            KEPT.set(previous);
        }
    }

    /** Keeps this thread's widened copies until the returned set closes (a training run: every step reads them). */
    public static WidenedCopies keepWidenedCopies() {
        WidenedCopies copies = new WidenedCopies(KEPT.get());
        KEPT.set(copies);
        return copies;
    }

    /** Marks this thread's products as trained through, when {@code trains}, until the returned scope closes. */
    public static Training training(boolean trains) {
        boolean previous = TRAINING.get();
        TRAINING.set(previous || trains);
        return new Training(previous);
    }

    /** Whether {@code w} is held in half precision. */
    private static boolean isHalf(NDArray w) {
        return w.getDataType() == DataType.FLOAT16;
    }

    /** x · W for activations x [.., in] (F32) and a weight W [in, out] in either precision: F32 [.., out]. */
    public static NDArray times(NDArray x, NDArray w) {
        if (!isHalf(w)) {
            return x.matMul(w);
        }
        if (recording()) {
            return x.matMul(widenedFor(w, x));
        }
        if (HalfProducts.current() == HalfProducts.WIDENED) {
            // x·W = Σ_s x[:, rows_s] · W[rows_s, :] over slabs of W's rows, each widened on its own
            NDArray sum = null;
            for (long[] rows : slabs(w)) {
                try (NDArray slab = widenedRows(w, rows, x); NDArray xs = x.get("..., " + rows[0] + ":" + rows[1])) {
                    NDArray part = xs.matMul(slab);
                    if (sum == null) {
                        sum = part;
                    } else {
                        sum.addi(part);
                        part.close();
                    }
                }
            }
            return sum;
        }
        return x.toType(DataType.FLOAT16, false).matMul(w).toType(DataType.FLOAT32, false);
    }

    /** W · k for a weight W [in, out] in either precision and k [out, P] (F32): F32 [in, P]. */
    public static NDArray timesRight(NDArray w, NDArray k) {
        if (!isHalf(w)) {
            return w.matMul(k);
        }
        if (recording()) {
            return widenedFor(w, k).matMul(k);
        }
        if (HalfProducts.current() == HalfProducts.WIDENED) {
            // (W·k)[rows_s] = W[rows_s, :] · k over slabs of W's rows, each widened on its own
            ai.djl.ndarray.NDList parts = new ai.djl.ndarray.NDList();
            for (long[] rows : slabs(w)) {
                try (NDArray slab = widenedRows(w, rows, k)) {
                    parts.add(slab.matMul(k));
                }
            }
            if (parts.size() == 1) {
                return parts.singletonOrThrow();
            }
            NDArray joined = NDArrays.concat(parts, 0);
            parts.close();
            return joined;
        }
        try (NDArray kHalf = k.toType(DataType.FLOAT16, false); NDArray yHalf = w.matMul(kHalf)) {
            yHalf.attach(k.getManager()); // a product belongs to its first operand's manager: here, the weight's
            return yHalf.toType(DataType.FLOAT32, false);
        }
    }

    /**
     * Rows [from, to) of the half matrix {@code w} as a new F32 array in {@code operand}'s manager, never the weight's
     * (the slice's view is freed at once).
     */
    private static NDArray widenedRows(NDArray w, long[] rows, NDArray operand) {
        try (NDArray view = w.get(rows[0] + ":" + rows[1] + ", :")) {
            NDArray wide = view.toType(DataType.FLOAT32, true);
            wide.attach(operand.getManager());
            return wide;
        }
    }

    /** Elements of a half matrix widened at once in a product: 16 M (64 MB of F32). */
    private static final long SLAB_ELEMENTS = 1L << 24;

    /** W's rows in slabs of at most {@value #SLAB_ELEMENTS} elements: [from, to) each. */
    private static java.util.List<long[]> slabs(NDArray w) {
        long rows = w.getShape().get(0);
        long perSlab = Math.max(1, SLAB_ELEMENTS / Math.max(1, w.getShape().get(1)));
        java.util.List<long[]> out = new java.util.ArrayList<>();
        for (long from = 0; from < rows; from += perSlab) {
            out.add(new long[] {from, Math.min(rows, from + perSlab)});
        }
        return out;
    }

    /** Whether a gradient is to flow back through this thread's products (a trained forward pass). */
    private static boolean recording() {
        return TRAINING.get();
    }

    /**
     * An F32 copy of the half weight {@code w}: the kept one where a training run keeps them ({@link
     * #keepWidenedCopies}), else a fresh one owned by {@code operand}'s manager (freed with the request's arrays).
     */
    private static NDArray widenedFor(NDArray w, NDArray operand) {
        WidenedCopies kept = KEPT.get();
        if (kept != null) {
            return kept.of(w);
        }
        NDArray wide = w.toType(DataType.FLOAT32, true);
        wide.attach(operand.getManager());
        return wide;
    }

    /**
     * A vector or slice read out of a weight as F32: {@code picked} itself when it already is, else its widened copy
     * (in {@code picked}'s manager) with {@code picked} closed. Only for arrays the caller owns, never a base weight.
     */
    public static NDArray widened(NDArray picked) {
        if (!isHalf(picked)) {
            return picked;
        }
        NDArray wide = picked.toType(DataType.FLOAT32, true);
        picked.close();
        return wide;
    }

    /** A weight's values as float32 (export and fingerprints); a half weight is widened in a copy that is freed here. */
    public static float[] floats(NDArray w) {
        if (!isHalf(w)) {
            return w.toFloatArray();
        }
        try (NDArray wide = w.toType(DataType.FLOAT32, true)) {
            return wide.toFloatArray();
        }
    }
}
