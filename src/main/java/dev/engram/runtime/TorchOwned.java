package dev.engram.runtime;

import ai.djl.ndarray.NDArray;

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

    /** The scalar {@code value} in {@code like}'s manager, as float32 owned by PyTorch. */
    public static NDArray scalar(NDArray like, float value) {
        return owned(like.getManager().create(value));
    }

    /** A PyTorch-owned copy of {@code fromJava}, which is closed. */
    public static NDArray owned(NDArray fromJava) {
        NDArray copy = fromJava.duplicate();
        fromJava.close();
        return copy;
    }
}
