package dev.engram.runtime.load;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reads checkpoint tensors into NDArrays of an expected shape, converting [out, in] matrices to [in, out]. Matrices
 * of a half-precision checkpoint stay F16 under {@link WeightStorage#STORED}: they are copied into their F16 array in
 * pieces of at most {@link #PIECE_BYTES} (transposed on the way where needed), so loading holds little more than the
 * model itself; vectors are always F32.
 */
public final class TensorReader implements AutoCloseable {
    /** The most bytes of one tensor in flight (mapped and staged) while it is copied into its F16 array. */
    static final int PIECE_BYTES = 8 << 20;

    private final TensorSource source;
    private final NDManager manager;
    private final WeightStorage storage;
    /** The one buffer every piece is staged in (direct, for libtorch), freed by {@link #close}. */
    private ByteBuffer staging;

    public TensorReader(TensorSource source, NDManager manager, WeightStorage storage) {
        this.source = source;
        this.manager = manager;
        this.storage = storage;
    }

    public boolean has(String name) {
        return source.has(name);
    }

    /** A tensor stored exactly as the runtime wants it: a matrix in its stored precision, a vector in F32. */
    public NDArray asIs(String name, long... shape) throws IOException {
        checkShape(name, shape);
        if (shape.length == 2 && holdsHalf(name)) {
            NDArray out = manager.zeros(new Shape(shape), DataType.FLOAT16);
            if (readPieces(name, shape[0], shape[1], (row, piece) -> out.set(new NDIndex("{}:{}", row,
                    row + piece.getShape().get(0)), piece), out)) {
                return out;
            }
        }
        return manager.create(source.read(name), new Shape(shape));
    }

    /** A tensor stored as it is, or null when the checkpoint lacks it. */
    public NDArray optional(String name, long... shape) throws IOException {
        return has(name) ? asIs(name, shape) : null;
    }

    /** A matrix stored [out, in] (PyTorch nn.Linear), returned [in, out] and contiguous. */
    public NDArray transposed(String name, int out, int in) throws IOException {
        checkShape(name, out, in);
        if (holdsHalf(name)) {
            NDArray result = manager.zeros(new Shape(in, out), DataType.FLOAT16);
            if (readPieces(name, out, in, (row, piece) -> {
                try (NDArray columns = piece.transpose()) {
                    result.set(new NDIndex(":, {}:{}", row, row + piece.getShape().get(0)), columns);
                }
            }, result)) {
                return result;
            }
        }
        return manager.create(Matrices.transpose(source.read(name), out, in), new Shape(in, out));
    }

    /**
     * A tensor [.., parts·w] stored as it is, split along its last axis into {@code parts} contiguous tensors [.., w]
     * side by side (GPT-2's c_attn: q, k and v). A half matrix gives F16 parts; a vector always F32 parts.
     */
    public NDArray[] columnBlocks(String name, int parts, long... shape) throws IOException {
        checkShape(name, shape);
        long cols = shape[shape.length - 1];
        long width = cols / parts;
        long rows = Dtype.elementCount(shape) / cols;
        if (shape.length == 2 && holdsHalf(name)) {
            NDArray[] blocks = new NDArray[parts];
            for (int p = 0; p < parts; p++) {
                blocks[p] = manager.zeros(new Shape(rows, width), DataType.FLOAT16);
            }
            if (readPieces(name, rows, cols, (row, piece) -> {
                for (int p = 0; p < parts; p++) {
                    try (NDArray part = piece.get(new NDIndex(":, {}:{}", p * width, (p + 1) * width))) {
                        blocks[p].set(new NDIndex("{}:{}", row, row + piece.getShape().get(0)), part);
                    }
                }
            }, blocks)) {
                return blocks;
            }
        }
        float[] data = source.read(name);
        NDArray[] blocks = new NDArray[parts];
        for (int p = 0; p < parts; p++) {
            float[] block = new float[(int) (rows * width)];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(data, (int) (r * cols + p * width), block, (int) (r * width), (int) width);
            }
            long[] blockShape = shape.clone();
            blockShape[shape.length - 1] = width;
            blocks[p] = manager.create(block, new Shape(blockShape));
        }
        return blocks;
    }

    /** Frees the staging buffer; the arrays read stay the manager's. */
    @Override
    public void close() {
        if (staging != null) {
            DirectBuffers.free(staging);
            staging = null;
        }
    }

    private void checkShape(String name, long... shape) throws IOException {
        if (!source.has(name)) {
            throw new IOException("checkpoint lacks tensor " + name);
        }
        long[] stored = source.shape(name);
        if (!Arrays.equals(stored, shape)) {
            throw new IOException("tensor " + name + " has shape " + Arrays.toString(stored) + ", expected "
                    + Arrays.toString(shape));
        }
    }

    /** Whether the matrix {@code name} is to be held in F16: a half checkpoint under {@link WeightStorage#STORED}. */
    private boolean holdsHalf(String name) {
        return storage == WeightStorage.STORED && source.dtype(name) != Dtype.F32;
    }

    /** What a piece of a stored matrix goes into: rows [row, row + n) of it, as an F16 array [n, cols]. */
    private interface PieceSink {
        void accept(long row, NDArray piece);
    }

    /**
     * Reads the stored matrix [rows, cols] as F16 in pieces of whole rows (at most {@link #PIECE_BYTES}), handing each
     * to {@code sink}; the pieces are staged in one buffer and copied by the sink into arrays allocated once, so no
     * temporary as large as the matrix is ever made (the C heap would keep it: LoaderMemoryTest). False, with {@code
     * targets} closed, where a BF16 value lies beyond F16's range: the caller reads the matrix as F32 instead.
     */
    private boolean readPieces(String name, long rows, long cols, PieceSink sink, NDArray... targets)
            throws IOException {
        long rowsPerPiece = Math.max(1, PIECE_BYTES / (2 * cols));
        if (staging == null || staging.capacity() < rowsPerPiece * cols * 2) {
            close();
            staging = ByteBuffer.allocateDirect((int) (rowsPerPiece * cols * 2)).order(ByteOrder.nativeOrder());
        }
        for (long r = 0; r < rows; r += rowsPerPiece) {
            long n = Math.min(rowsPerPiece, rows - r);
            staging.clear().limit((int) (n * cols * 2));
            if (!source.readF16(name, r * cols, staging)) {
                for (NDArray target : targets) {
                    target.close();
                }
                return false;
            }
            try (NDArray piece = manager.create(staging, new Shape(n, cols), DataType.FLOAT16)) {
                sink.accept(r, piece);
            }
        }
        return true;
    }
}
