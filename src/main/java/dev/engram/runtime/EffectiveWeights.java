package dev.engram.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * The weights every reader sees: base weights W plus a sparse {@link WeightDelta} ΔW, as one immutable view. The
 * forward pass, attribution (subvalues, subkeys, vocabulary projections, query keys), prediction and generation all
 * read the block matrices through this class, so an edited model is scored with its edited vectors. Many views share
 * one base; no matrix is ever copied: each product with W_eff = W + ΔW is the product with W plus a low-rank
 * correction built from the delta's few vectors.
 *
 * <p>Embeddings, norms, biases and the unembedding are never edited and are read from {@link #base()}.
 */
public final class EffectiveWeights implements AutoCloseable {
    private final ModelWeights base;
    private final WeightDelta delta;
    private final boolean ownsBase;

    private EffectiveWeights(ModelWeights base, WeightDelta delta, boolean ownsBase) {
        this.base = base;
        this.delta = delta;
        this.ownsBase = ownsBase;
    }

    /** The unedited view of {@code base}; it owns the base and closes it. */
    public static EffectiveWeights of(ModelWeights base) {
        return new EffectiveWeights(base, WeightDelta.none(), true);
    }

    /** Another view of the same base with {@code delta} in place of this view's delta. Closing it frees nothing. */
    public EffectiveWeights withDelta(WeightDelta delta) {
        return new EffectiveWeights(base, delta, false);
    }

    public ModelWeights base() {
        return base;
    }

    public WeightDelta delta() {
        return delta;
    }

    public boolean ownsBase() {
        return ownsBase;
    }

    public NDManager manager() {
        return base.manager();
    }

    /** y = x · W_eff = x·W + (x·A)·B for x [.., in], where ΔW = A·B ({@link #factors}). */
    public NDArray times(NDArray x, int layer, Param param) {
        NDArray y = Precision.times(x, base.layer(layer).matrix(param));
        NDArray correction = correction(x, layer, param);
        return correction == null ? y : y.add(correction);
    }

    /** The delta's part of x·W_eff, (x·A)·B, or null where the delta leaves this matrix alone. */
    public NDArray correction(NDArray x, int layer, Param param) {
        if (!delta.touches(layer, param)) {
            return null;
        }
        NDArray[] ab = factors(layer, param, x.getManager());
        return ab[0] == null ? x.matMul(ab[1]) : x.matMul(ab[0]).matMul(ab[1]);
    }

    /** The number of rows (inputs) of a matrix. */
    public long rowsOf(int layer, Param param) {
        return base.layer(layer).matrix(param).getShape().get(0);
    }

    /** W_eff · k = W·k + A·(B·k) for k [out, P]: [in, P]. Reads many subvalues (rows) against a few directions. */
    public NDArray timesRight(int layer, Param param, NDArray k) {
        NDArray y = Precision.timesRight(base.layer(layer).matrix(param), k);
        if (!delta.touches(layer, param)) {
            return y;
        }
        NDArray[] ab = factors(layer, param, k.getManager());
        return y.add(ab[0] == null ? ab[1].matMul(k) : ab[0].matMul(ab[1].matMul(k)));
    }

    /**
     * ΔW of one matrix as a product A·B of two thin factors (a matrix holds ROW or COLUMN entries, never both):
     * ROW entries r give ΔW = Σ_r e_r ⊗ δ_r = Sᵀ·D with S the one-hot selector [R, in] and D the stacked δ_r [R, out];
     * COLUMN entries c give ΔW = Σ_c δ_c ⊗ e_c = Dᵀ·S with D [C, in] and S [C, out]. When every row is there (a
     * dense update: ROME, MEMIT, AlphaEdit), S = I and A is null: ΔW = D.
     */
    private NDArray[] factors(int layer, Param param, NDManager m) {
        int[] shape = {(int) base.layer(layer).matrix(param).getShape().get(0),
                (int) base.layer(layer).matrix(param).getShape().get(1)};
        List<WeightDelta.Entry> rows = delta.at(layer, param, WeightDelta.Slice.ROW);
        if (rows.size() == shape[0]) {
            return new NDArray[] {null, stacked(m, rows, shape[1])};
        }
        if (!rows.isEmpty()) {
            return new NDArray[] {oneHot(m, rows, shape[0]).transpose(), stacked(m, rows, shape[1])};
        }
        List<WeightDelta.Entry> cols = delta.at(layer, param, WeightDelta.Slice.COLUMN);
        return new NDArray[] {stacked(m, cols, shape[0]).transpose(), oneHot(m, cols, shape[1])};
    }

    /**
     * Dense weights for writing a checkpoint out: each matrix the delta touches as a new array W + A·B owned by
     * {@code manager}, every other array shared with the base. Closing the result frees only the new arrays. Only
     * export uses this; serving never copies a matrix.
     */
    public ModelWeights materialize(NDManager manager) {
        List<LayerWeights> layers = new java.util.ArrayList<>();
        for (int l = 0; l < base.layers().size(); l++) {
            LayerWeights lw = base.layer(l);
            for (Param p : Param.values()) {
                if (delta.touches(l, p)) {
                    NDArray[] ab = factors(l, p, manager);
                    NDArray change = ab[0] == null ? ab[1] : ab[0].matMul(ab[1]);
                    // change + W, not W + change: a result belongs to its first operand's manager, and W's is the
                    // base's, which lives as long as the model (found by the soak: every export kept its copies)
                    lw = lw.with(p, change.add(lw.matrix(p)));
                }
            }
            layers.add(lw);
        }
        return new ModelWeights(manager, base.tokenEmbedding(), base.positionEmbedding(), layers,
                base.finalNormWeight(), base.finalNormBias(), base.unembedding());
    }

    /** Rows {@code indices} of W_eff: [n, out] (FFN subvalues are rows of W_down, attention subvalues rows of W_O). */
    public NDArray rows(int layer, Param param, long[] indices) {
        NDArray w = base.layer(layer).matrix(param);
        NDArray picked;
        try (NDArray index = w.getManager().create(indices)) {
            picked = Precision.widened(w.get(index)); // a copy: the index is not needed afterwards, and must not stay in the base's manager
        }
        if (!delta.touches(layer, param)) {
            return picked;
        }
        int out = (int) w.getShape().get(1);
        float[] correction = new float[indices.length * out];
        for (int i = 0; i < indices.length; i++) {
            WeightDelta.Entry row = delta.get(new WeightDelta.Key(layer, param, WeightDelta.Slice.ROW, (int) indices[i]));
            if (row != null) {
                for (int j = 0; j < out; j++) {
                    correction[i * out + j] += row.changeAt(j);
                }
            }
            for (WeightDelta.Entry col : delta.at(layer, param, WeightDelta.Slice.COLUMN)) {
                correction[i * out + col.index()] += col.changeAt((int) indices[i]);
            }
        }
        return picked.add(picked.getManager().create(correction, new Shape(indices.length, out)));
    }

    /** Column {@code index} of W_eff: [in] (FFN subkeys are columns of W_up / W_gate, attention subkeys of W_V). */
    public NDArray column(int layer, Param param, int index) {
        NDArray w = base.layer(layer).matrix(param);
        NDArray picked = Precision.widened(w.get(new NDIndex(":, {}", index)));
        if (!delta.touches(layer, param)) {
            return picked;
        }
        int in = (int) w.getShape().get(0);
        float[] correction = new float[in];
        WeightDelta.Entry col = delta.get(new WeightDelta.Key(layer, param, WeightDelta.Slice.COLUMN, index));
        if (col != null) {
            for (int i = 0; i < in; i++) {
                correction[i] += col.changeAt(i);
            }
        }
        for (WeightDelta.Entry row : delta.at(layer, param, WeightDelta.Slice.ROW)) {
            correction[row.index()] += row.changeAt(index);
        }
        return picked.add(picked.getManager().create(correction));
    }

    /** The effective vector at {@code key}: row or column {@code key.index()} of the matrix, as floats. */
    public float[] vector(WeightDelta.Key key) {
        // every array made here (index, picked rows, corrections) is freed with the scope, not left in the base's manager
        try (NDScope scope = new NDScope()) {
            NDArray v = key.slice() == WeightDelta.Slice.ROW
                    ? rows(key.layer(), key.param(), new long[] {key.index()})
                    : column(key.layer(), key.param(), key.index());
            return v.toFloatArray();
        }
    }

    /** One-hot rows e_{index} of width {@code width}, one per entry: [n, width]. */
    private static NDArray oneHot(NDManager manager, List<WeightDelta.Entry> entries, long width) {
        float[] data = new float[(int) (entries.size() * width)];
        for (int r = 0; r < entries.size(); r++) {
            data[(int) (r * width) + entries.get(r).index()] = 1f;
        }
        return manager.create(data, new Shape(entries.size(), width));
    }

    private static NDArray stacked(NDManager manager, List<WeightDelta.Entry> entries, long width) {
        float[] data = new float[(int) (entries.size() * width)];
        for (int r = 0; r < entries.size(); r++) {
            WeightDelta.Entry e = entries.get(r);
            for (int j = 0; j < width; j++) {
                data[(int) (r * width) + j] = e.changeAt(j);
            }
        }
        return manager.create(data, new Shape(entries.size(), width));
    }

    @Override
    public void close() {
        if (ownsBase) {
            base.close();
        }
    }
}
