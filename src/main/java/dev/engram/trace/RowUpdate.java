package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.Param;
import dev.engram.runtime.TorchOwned;

/**
 * Rows {@code rows} of layer {@code layer}'s {@code param} shifted by the rows of {@code change} [R, out], a live
 * NDArray (for a learned edit, a leaf that requires gradients). The forward pass adds x·Sᵀ·change, with S the
 * one-hot selector of the rows; nothing else of the matrix is touched.
 */
public record RowUpdate(int layer, Param param, int[] rows, long inputWidth, NDArray change) {

    /** x·ΔW = (x·Sᵀ)·change for x [.., in]. */
    NDArray apply(NDArray x) {
        float[] selector = new float[(int) (inputWidth * rows.length)];
        for (int r = 0; r < rows.length; r++) {
            selector[(int) (rows[r] * rows.length + r)] = 1f;
        }
        NDArray s = TorchOwned.owned(x.getManager().create(selector, new Shape(inputWidth, rows.length)));
        return x.matMul(s).matMul(change);
    }
}
