package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.FeedForward;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Param;

/** A block's FFN F^l = m·W_down (+ b_down) over the normed residual, m the neuron coefficients. */
final class FeedForwardStep {
    private final ModelConfig config;
    private final Projections projections;

    FeedForwardStep(ModelConfig config, Projections projections) {
        this.config = config;
        this.projections = projections;
    }

    /** Gated: m = σ(x·W_gate) ⊙ (x·W_up) (SwiGLU, GeGLU). Ungated: m = σ(x·W_fc + b_fc) (GPT-2). */
    NDArray coefficients(int layer, LayerWeights w, NDArray x) {
        FeedForward ffn = config.family().feedForward();
        NDArray gate = ffn.gated() ? projections.linear(x, layer, Param.FFN_GATE, null) : null;
        return ffn.coefficients(gate, projections.linear(x, layer, Param.FFN_UP, w.bUp()));
    }

    /** F^l = m·W_down (+ b_down). */
    NDArray output(int layer, LayerWeights w, NDArray m) {
        return projections.linear(m, layer, Param.FFN_DOWN, w.bDown());
    }
}
