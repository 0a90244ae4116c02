package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Norms;
import dev.engram.runtime.Precision;

/**
 * What a lean trace recomputes, with the pass's own arithmetic: one query position's attention pattern, one
 * position's FFN coefficients, one position's logits.
 */
final class RecomputedRows {
    private final ModelConfig config;
    private final ModelWeights base;
    private final AttentionStep attention;
    private final FeedForwardStep feedForward;

    RecomputedRows(ModelConfig config, ModelWeights base, AttentionStep attention, FeedForwardStep feedForward) {
        this.config = config;
        this.base = base;
        this.attention = attention;
        this.feedForward = feedForward;
    }

    /**
     * α^l rows of the queries at {@code positions}, from h^{l−1} there and the keys of sources 0..S − 1, each row
     * causally masked (sources after its position get 0): [H, P, S].
     */
    NDArray patternRows(int layer, NDArray residPreRows, int[] positions, NDArray keys) {
        LayerWeights w = base.layer(layer);
        NDArray a = Norms.apply(config, residPreRows, w.attnNormWeight(), w.attnNormBias());
        NDArray qh = attention.queries(layer, w, a, positions).transpose(1, 0, 2); // [H, P, dh]
        NDArray kh = attention.byQueryHead(keys).transpose(1, 0, 2); // [H, S, dh]
        int sources = (int) keys.getShape().get(0);
        float[] mask = new float[positions.length * sources];
        for (int i = 0; i < positions.length; i++) {
            java.util.Arrays.fill(mask, i * sources + Math.min(sources, positions[i] + 1), (i + 1) * sources,
                    Float.NEGATIVE_INFINITY);
        }
        return AttentionStep.pattern(qh, kh, a.getManager().create(mask,
                new ai.djl.ndarray.types.Shape(positions.length, sources)));
    }

    /** m^l at the given rows of mid^l: [P, d_ffn]. */
    NDArray ffnCoefficients(int layer, NDArray residMidRows) {
        LayerWeights w = base.layer(layer);
        NDArray b = Norms.apply(config, residMidRows, w.ffnNormWeight(), w.ffnNormBias());
        return feedForward.coefficients(layer, w, b);
    }

    /** Logits from one row of N_f(h^L): [V]. */
    NDArray logits(NDArray finalNormedRow) {
        return Precision.times(finalNormedRow.reshape(1, config.dModel()), base.unembedding()).reshape(config.vocabSize());
    }
}
