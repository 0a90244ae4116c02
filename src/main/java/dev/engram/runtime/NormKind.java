package dev.engram.runtime;

import ai.djl.ndarray.NDArray;

/**
 * The two normalisations, N(x) = γ ⊙ C(x) / s(x) (+ β), over the last axis. C is the LayerNorm centring
 * x − mean(x) (the identity for RMSNorm) and s the scale; both are linear-algebra facts that attribution and editing
 * fold into keys and readouts, so each is a method here.
 */
public enum NormKind {
    /** LayerNorm: N(x) = γ ⊙ (x − μ(x)) / sqrt(var(x) + ε) + β. */
    LAYER {
        @Override
        public NDArray apply(NDArray x, NDArray gamma, NDArray beta, double eps) {
            return Norms.layer(x, gamma, beta, eps);
        }

        @Override
        public NDArray scale(NDArray x, double eps) {
            return Norms.layerScale(x, eps);
        }

        @Override
        public boolean centres() {
            return true;
        }
    },
    /** RMSNorm: N(x) = γ ⊙ x / sqrt(mean(x²) + ε). */
    RMS {
        @Override
        public NDArray apply(NDArray x, NDArray gamma, NDArray beta, double eps) {
            return Norms.rms(x, gamma, eps);
        }

        @Override
        public NDArray scale(NDArray x, double eps) {
            return Norms.rmsScale(x, eps);
        }

        @Override
        public boolean centres() {
            return false;
        }
    };

    /** N(x) with gain γ and bias β (β is ignored by RMSNorm and may be null there). */
    public abstract NDArray apply(NDArray x, NDArray gamma, NDArray beta, double eps);

    /** s(x): σ(x) = sqrt(var(x) + ε) or r(x) = sqrt(mean(x²) + ε), kept as a trailing axis of size 1. */
    public abstract NDArray scale(NDArray x, double eps);

    /** Whether C subtracts the mean (LayerNorm) or is the identity (RMSNorm). */
    public abstract boolean centres();

    /** C(x) over the last axis of x. */
    public NDArray centre(NDArray x) {
        return centres() ? x.sub(x.mean(new int[] {-1}, true)) : x;
    }

    /** C(x) of one vector, in doubles. */
    public double[] centre(double[] x) {
        if (!centres()) {
            return x;
        }
        double mean = 0;
        for (double v : x) {
            mean += v / x.length;
        }
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] - mean;
        }
        return out;
    }
}
