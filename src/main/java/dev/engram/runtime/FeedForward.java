package dev.engram.runtime;

import ai.djl.ndarray.NDArray;

/**
 * A family's FFN neuron coefficients m, with F(x) = m·W_down (+ b_down). Gated: m = σ(x·W_gate) ⊙ (x·W_up)
 * (SwiGLU with σ = SiLU, GeGLU with σ = tanh-GELU); ungated: m = σ(x·W_up + b_up) (GPT-2's c_fc).
 *
 * @param gated      whether the FFN has a gate matrix
 * @param activation σ
 */
public record FeedForward(boolean gated, Activation activation) {
    /** The FFN non-linearities. */
    public enum Activation {
        /** tanh-GELU: GPT-2's "gelu_new", HF's "gelu_pytorch_tanh". */
        GELU_TANH {
            @Override
            public NDArray apply(NDArray x) {
                return Activations.geluTanh(x);
            }
        },
        /** SiLU: x · sigmoid(x). */
        SILU {
            @Override
            public NDArray apply(NDArray x) {
                return Activations.silu(x);
            }
        };

        public abstract NDArray apply(NDArray x);
    }

    /** m from the gate's output (null when ungated) and the up-projection's output (bias included). */
    public NDArray coefficients(NDArray gateOutput, NDArray upOutput) {
        return gated ? activation.apply(gateOutput).mul(upOutput) : activation.apply(upOutput);
    }

    /** The matrices of one FFN block: W_gate, W_up and W_down, or W_up and W_down. */
    public int matrixCount() {
        return gated ? 3 : 2;
    }
}
