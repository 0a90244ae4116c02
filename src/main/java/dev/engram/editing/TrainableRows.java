package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.Param;
import dev.engram.trace.RowUpdate;

/**
 * One subvalue matrix's trainable rows: θ [R, d] (a leaf that requires gradients) with its Adam moments, and the
 * row scales s [R, 1]; the rows' change is δ = s ⊙ θ.
 */
final class TrainableRows {
    final int layer;
    final Param param;
    final int[] rows;
    final NDArray m;
    final NDArray v;
    final NDArray theta;
    final NDArray scale;

    TrainableRows(int layer, Param param, int[] rows, NDArray theta, NDArray scale, NDArray m, NDArray v) {
        this.layer = layer;
        this.param = param;
        this.rows = rows;
        this.theta = theta;
        this.scale = scale;
        this.m = m;
        this.v = v;
    }

    /** δ = s ⊙ θ, inside the caller's gradient scope. */
    NDArray change() {
        return theta.mul(scale);
    }

    RowUpdate update(long inputWidth) {
        return new RowUpdate(layer, param, rows, inputWidth, change());
    }
}
