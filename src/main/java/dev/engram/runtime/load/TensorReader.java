package dev.engram.runtime.load;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.Arrays;

/** Reads checkpoint tensors into NDArrays of an expected shape, converting [out, in] matrices to [in, out]. */
public final class TensorReader {
    private final TensorSource source;
    private final NDManager manager;

    public TensorReader(TensorSource source, NDManager manager) {
        this.source = source;
        this.manager = manager;
    }

    public boolean has(String name) {
        return source.has(name);
    }

    /** A tensor stored exactly as the runtime wants it. */
    public NDArray asIs(String name, long... shape) throws IOException {
        return manager.create(raw(name, shape), new Shape(shape));
    }

    /** A tensor stored as it is, or null when the checkpoint lacks it. */
    public NDArray optional(String name, long... shape) throws IOException {
        return has(name) ? asIs(name, shape) : null;
    }

    /** A matrix stored [out, in] (PyTorch nn.Linear), returned [in, out]. */
    public NDArray transposed(String name, int out, int in) throws IOException {
        return manager.create(Matrices.transpose(raw(name, out, in), out, in), new Shape(in, out));
    }

    /** The float values, after checking the stored shape. */
    public float[] raw(String name, long... shape) throws IOException {
        if (!source.has(name)) {
            throw new IOException("checkpoint lacks tensor " + name);
        }
        long[] stored = source.shape(name);
        if (!Arrays.equals(stored, shape)) {
            throw new IOException("tensor " + name + " has shape " + Arrays.toString(stored) + ", expected "
                    + Arrays.toString(shape));
        }
        return source.read(name);
    }

    public NDManager manager() {
        return manager;
    }
}
