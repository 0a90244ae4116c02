package dev.engram.runtime;

import ai.djl.ndarray.NDArray;

/** The FFN non-linearities, written out so they can be checked against their definitions. */
public final class Activations {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private Activations() {
    }

    /** GPT-2's "gelu_new": 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))). */
    public static NDArray geluTanh(NDArray x) {
        NDArray cube = x.mul(x).mul(x);
        NDArray inner = x.add(cube.mul(TorchOwned.scalar(0.044715f))).mul(TorchOwned.scalar((float) SQRT_2_OVER_PI));
        return x.mul(inner.tanh().add(1)).mul(TorchOwned.scalar(0.5f));
    }

    /**
     * SiLU: x · sigmoid(x), with sigmoid(x) = ½·(1 + tanh(x/2)). The tanh form stays finite in value and gradient for
     * every x; the textbook x / (1 + e^(−x)) overflows e^(−x) below x ≈ −88 in float32, and its gradient is then
     * inf/inf = NaN, which poisons a learned edit.
     */
    public static NDArray silu(NDArray x) {
        NDArray half = TorchOwned.scalar(0.5f);
        return x.mul(x.mul(half).tanh().add(1f).mul(half));
    }
}
