package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Param;
import java.util.List;

/**
 * What a pass changes in the computation it runs: neuron scalings (ablation, amplification: {@link NeuronScaling})
 * and live row updates x·Sᵀ·D whose D may be trainable ({@link RowUpdate}). The weights are never touched.
 *
 * @param scaling    coefficients to rescale
 * @param rowUpdates terms added to block matrix products
 * @param differentiable whether a gradient will be taken through the pass even without row updates (its input residual
 *                   is trainable)
 */
record Interventions(NeuronScaling scaling, List<RowUpdate> rowUpdates, boolean differentiable) {
    Interventions {
        rowUpdates = List.copyOf(rowUpdates);
    }

    static Interventions none() {
        return new Interventions(NeuronScaling.none(), List.of(), false);
    }

    Interventions withScaling(NeuronScaling s) {
        return new Interventions(s, rowUpdates, differentiable);
    }

    Interventions withRowUpdates(List<RowUpdate> updates) {
        return new Interventions(scaling, updates, differentiable);
    }

    Interventions differentiated() {
        return new Interventions(scaling, rowUpdates, true);
    }

    boolean isEmpty() {
        return scaling.isEmpty() && rowUpdates.isEmpty();
    }

    /** Something is being trained: autograd needs each block's intermediates until the backward pass. */
    boolean trains() {
        return differentiable || !rowUpdates.isEmpty();
    }

    /** Whether attention at {@code layer} is rescaled (its pattern must then be formed whole). */
    boolean scalesAttentionAt(int layer) {
        return !scaling.attentionAt(layer).isEmpty();
    }

    /** y plus every row update of (layer, param) applied to x. */
    NDArray addRowUpdates(NDArray y, NDArray x, int layer, Param param) {
        for (RowUpdate u : rowUpdates) {
            if (u.layer() == layer && u.param() == param) {
                y = y.add(u.apply(x));
            }
        }
        return y;
    }

    /** m with FFN neuron k's coefficient at a position (or every position) multiplied by its scale. */
    NDArray scaleFfn(int layer, NDArray m, ModelConfig config) {
        for (NeuronScaling.Ffn f : scaling.ffnAt(layer)) {
            checkRange("FFN neuron", f.neuron(), config.dFfn());
            NDIndex where = f.position() == NeuronScaling.ALL_POSITIONS
                    ? new NDIndex(":, {}", f.neuron())
                    : new NDIndex("{}, {}", checkRange("position", f.position(), m.getShape().get(0)), f.neuron());
            m.set(where, m.get(where).mul(f.scale()));
        }
        return m;
    }

    /** Attention neuron (j, e, p) at query t contributes α_{t,p}^j·val_{p,e}^j to z_{t,e}^j; rescale that term. */
    NDArray scaleAttention(int layer, NDArray z, NDArray pattern, NDArray value, ModelConfig config) {
        long seqLen = z.getShape().get(1);
        for (NeuronScaling.Attention n : scaling.attentionAt(layer)) {
            checkRange("head", n.head(), config.nHeads());
            checkRange("head dim", n.dim(), config.headDim());
            checkRange("query position", n.queryPosition(), seqLen);
            checkRange("source position", n.source(), seqLen);
            float coefficient = pattern.getFloat(n.head(), n.queryPosition(), n.source())
                    * value.getFloat(n.head(), n.source(), n.dim());
            NDIndex where = new NDIndex("{}, {}, {}", n.head(), n.queryPosition(), n.dim());
            z.set(where, z.getFloat(n.head(), n.queryPosition(), n.dim()) + (n.scale() - 1f) * coefficient);
        }
        return z;
    }

    /** Nothing acts below {@code startLayer}, where a run that starts there computes nothing. */
    void checkNothingBelow(int startLayer) {
        for (RowUpdate u : rowUpdates) {
            if (u.layer() < startLayer) {
                throw new IllegalStateException("a row update at layer " + u.layer() + " lies below the start block "
                        + startLayer);
            }
        }
        for (int l = 0; l < startLayer; l++) {
            if (!scaling.ffnAt(l).isEmpty() || !scaling.attentionAt(l).isEmpty()) {
                throw new IllegalStateException("a neuron scaling at layer " + l + " lies below the start block "
                        + startLayer);
            }
        }
    }

    private static long checkRange(String what, long value, long size) {
        if (value < 0 || value >= size) {
            throw new IllegalArgumentException(what + " " + value + " is outside [0, " + size + ")");
        }
        return value;
    }
}
