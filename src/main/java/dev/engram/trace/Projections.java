package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.EffectiveWeights;
import dev.engram.runtime.Param;
import dev.engram.runtime.Precision;
import java.util.List;

/**
 * The block matrix products of one run: y = x·W_eff + b, with W_eff = W + ΔW read through the effective weights, plus
 * any live row updates. Over several views of one base (packed sequence k on view k), row i gets x_i·W + x_i·ΔW_k
 * for its sequence's view k: y = x·W + Σ_k mask_k ⊙ (x·ΔW_k), so the base weights are read once for all views.
 */
final class Projections {
    private final EffectiveWeights weights;
    /** Per packed sequence k, the effective weights of its view; null when every row reads {@link #weights}. */
    private final List<EffectiveWeights> sequenceViews;
    /** Per view k, a [rows, 1] mask of 1 on its sequence's rows, 0 elsewhere (null with one view). */
    private final List<NDArray> viewRowMasks;
    private final Interventions interventions;

    Projections(EffectiveWeights weights, List<EffectiveWeights> sequenceViews, List<NDArray> viewRowMasks,
            Interventions interventions) {
        this.weights = weights;
        this.sequenceViews = sequenceViews;
        this.viewRowMasks = viewRowMasks;
        this.interventions = interventions;
    }

    /** y = x·W_eff (+ b) (+ the row updates of this matrix). */
    NDArray linear(NDArray x, int layer, Param param, NDArray bias) {
        NDArray y = sequenceViews == null ? weights.times(x, layer, param) : timesEachView(x, layer, param);
        if (bias != null) {
            y = y.add(bias);
        }
        return interventions.addRowUpdates(y, x, layer, param);
    }

    private NDArray timesEachView(NDArray x, int layer, Param param) {
        NDArray y = Precision.times(x, weights.base().layer(layer).matrix(param));
        for (int k = 0; k < sequenceViews.size(); k++) {
            NDArray correction = sequenceViews.get(k).correction(x, layer, param);
            if (correction != null) {
                y = y.add(correction.mul(viewRowMasks.get(k)));
            }
        }
        return y;
    }
}
