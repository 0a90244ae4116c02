package dev.engram.runtime.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;

/** Named float32 tensors in a checkpoint's own layout, read one at a time. */
public interface TensorSource {
    Set<String> names();

    long[] shape(String name);

    float[] read(String name) throws IOException;

    /** How the checkpoint stores the tensor: F16 or BF16 where it is half precision, F32 for all else (quantised included). */
    default Dtype dtype(String name) {
        return Dtype.F32;
    }

    /**
     * Puts elements [from, from + out.remaining() / 2) of a half-precision tensor into {@code out} as little-endian
     * F16, or returns false (with {@code out}'s contents undefined) where one of them lies beyond F16's range (a BF16
     * value above 65504; {@link Dtype#bf16AsF16}). Only for tensors whose {@link #dtype} is F16 or BF16.
     */
    default boolean readF16(String name, long from, ByteBuffer out) throws IOException {
        throw new UnsupportedOperationException(name + " is not held in half precision by this checkpoint");
    }

    default boolean has(String name) {
        return names().contains(name);
    }
}
