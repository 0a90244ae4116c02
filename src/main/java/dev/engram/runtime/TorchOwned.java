package dev.engram.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Arrays made from Java values whose memory PyTorch owns. DJL builds an array from Java data over a direct buffer
 * that only the Java array object keeps alive, and its {@code mul(Number)}-style operations close the scalar they make
 * right after the call. Autograd keeps some operands for the backward pass (the other factor of a product, the divisor
 * of a quotient): once the buffer is collected, the backward pass reads freed memory (NaN gradients under GC load).
 * A copy made by PyTorch is owned by PyTorch and lives as long as any tensor refers to it.
 */
public final class TorchOwned {
    private TorchOwned() {
    }

    /** Constants shared by every model and request for the life of the process, on its device; never closed. */
    private static final NDManager CONSTANTS = NDManager.newBaseManager(ComputeDevice.selected());
    private static final Map<Float, NDArray> SCALARS = new ConcurrentHashMap<>();

    /**
     * The float32 scalar {@code value}, owned by PyTorch and made once per process (a constant: arrays of any
     * manager may be combined with it, and it is never closed).
     */
    public static NDArray scalar(float value) {
        return SCALARS.computeIfAbsent(value, v -> constant(CONSTANTS.create(v)));
    }

    /** A PyTorch-owned, never-closed copy of {@code fromJava} in the process-wide constants (for cached tables). */
    public static NDArray constant(NDArray fromJava) {
        NDArray copy = fromJava.duplicate();
        fromJava.close();
        NDScope.unregister(copy);
        copy.attach(CONSTANTS);
        return copy;
    }

    /** The manager that owns the process-wide constants. */
    public static NDManager constants() {
        return CONSTANTS;
    }

    /** A PyTorch-owned copy of {@code fromJava}, which is closed. */
    public static NDArray owned(NDArray fromJava) {
        NDArray copy = fromJava.duplicate();
        fromJava.close();
        return copy;
    }
}
