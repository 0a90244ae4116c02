package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Norms;
import dev.engram.runtime.Precision;

/**
 * The logit lens at one position: p(w | x) = softmax(W_U · N_f(x))_w for residual-stream vectors x, in a
 * {@link NormMode}. For FROZEN, N_f(x) = γ_f ⊙ C(x) / r*, with r* the final norm's scale at the real final residual
 * and C the LayerNorm centering (the identity for RMSNorm).
 */
final class Readout {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final NormMode mode;
    /** r* (RMSNorm) or σ* (LayerNorm) of the real final residual h_T^L. */
    private final float frozenScale;

    Readout(ModelConfig config, ModelWeights weights, NormMode mode, NDArray finalResidual) {
        this(config, weights, mode, frozenScale(config, finalResidual));
    }

    private Readout(ModelConfig config, ModelWeights weights, NormMode mode, float frozenScale) {
        this.config = config;
        this.weights = weights;
        this.mode = mode;
        this.frozenScale = frozenScale;
    }

    /** A readout that only projects ({@link #project}): no position, so no frozen scale. */
    static Readout projectionOnly(ModelConfig config, ModelWeights weights) {
        return new Readout(config, weights, NormMode.FROZEN, Float.NaN);
    }

    private static float frozenScale(ModelConfig config, NDArray finalResidual) {
        try (NDArray scale = Norms.scale(config, finalResidual)) {
            return scale.getFloat();
        }
    }

    float frozenScale() {
        return frozenScale;
    }

    NormMode mode() {
        return mode;
    }

    /** ε of the final norm. */
    double normEps() {
        return config.normEps();
    }

    /** s(x) = W_U · N_f(x) for each row of x [B, d] → [B, V], in this readout's mode. */
    NDArray logits(NDArray x) {
        if (mode == NormMode.EXACT) {
            return Precision.times(Norms.apply(config, x, weights.finalNormWeight(), weights.finalNormBias()), weights.unembedding());
        }
        return direction(x);
    }

    /** The FROZEN map S(u) = W_U · (γ_f ⊙ C(u)) / r*, linear in u: rows of u [B, d] → [B, V]. */
    NDArray direction(NDArray u) {
        return project(u).div(frozenScale);
    }

    /**
     * First-order readout of the target against each base: rows q_w − q_p with S(u)_w − ⟨p, S(u)⟩ = u · (q_w − q_p)
     * for every u, where q_w = C(γ_f ⊙ W_U[:, w]) / r* and q_p = C(γ_f ⊙ W_U·p) / r* (C is symmetric, so it moves
     * onto the readout). {@code expectedColumns} [B, d] holds W_U·p for one distribution p per base ({@link
     * #expectedColumns}); the result is [B, d].
     */
    NDArray firstOrderReadout(int target, NDArray expectedColumns) {
        NDArray targetColumn = Precision.widened(weights.unembedding().get(new NDIndex(":, {}", target))); // W_U[:, w], [d]
        return centre(expectedColumns.neg().add(targetColumn).mul(weights.finalNormWeight())).div(frozenScale);
    }

    /** W_U·p for each distribution p, the rows of {@code probs} [B, V]: [B, d]. The same for every target. */
    NDArray expectedColumns(NDArray probs) {
        return Precision.times(probs, weights.unembedding().transpose());
    }

    /** Vocabulary projections W_U · (γ_f ⊙ C(u)) of the rows of u [B, d], for the top-token view of subvalues. */
    NDArray project(NDArray u) {
        return Precision.times(centre(u).mul(weights.finalNormWeight()), weights.unembedding());
    }

    /** C(x) = x − mean(x) for LayerNorm; the identity for RMSNorm. Rows of x [B, d]. */
    NDArray centre(NDArray x) {
        return config.family().norm().centre(x);
    }
}
