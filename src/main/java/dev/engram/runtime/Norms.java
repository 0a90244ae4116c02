package dev.engram.runtime;

import ai.djl.ndarray.NDArray;

/** The normalisations of both families, applied over the last axis. */
public final class Norms {
    private Norms() {
    }

    /** RMSNorm: N(x) = γ ⊙ x / sqrt(mean(x²) + ε). */
    public static NDArray rms(NDArray x, NDArray gamma, double eps) {
        return x.div(rmsScale(x, eps)).mul(gamma);
    }

    /** r(x) = sqrt(mean(x²) + ε), kept as a trailing axis of size 1. */
    public static NDArray rmsScale(NDArray x, double eps) {
        return x.square().mean(new int[] {-1}, true).add(TorchOwned.scalar((float) eps)).sqrt();
    }

    /** LayerNorm: N(x) = γ ⊙ (x − μ(x)) / sqrt(var(x) + ε) + β. */
    public static NDArray layer(NDArray x, NDArray gamma, NDArray beta, double eps) {
        NDArray centred = x.sub(x.mean(new int[] {-1}, true));
        return centred.div(layerScale(x, eps)).mul(gamma).add(beta);
    }

    /** σ(x) = sqrt(var(x) + ε), kept as a trailing axis of size 1. */
    public static NDArray layerScale(NDArray x, double eps) {
        NDArray centred = x.sub(x.mean(new int[] {-1}, true));
        return centred.square().mean(new int[] {-1}, true).add(TorchOwned.scalar((float) eps)).sqrt();
    }

    /** The model's norm (its family's {@link NormKind}) with gain γ and bias β at the model's ε. */
    public static NDArray apply(ModelConfig config, NDArray x, NDArray gamma, NDArray beta) {
        return config.family().norm().apply(x, gamma, beta, config.normEps());
    }

    /** The model's norm scale s(x) at the model's ε, kept as a trailing axis of size 1. */
    public static NDArray scale(ModelConfig config, NDArray x) {
        return config.family().norm().scale(x, config.normEps());
    }
}
