package dev.engram.attribution;

/** Which subkey of a Llama FFN value neuron defines its query neurons (GPT-2 has only c_fc). */
public enum QueryKey {
    /** gate_k ⊙ γ_2: the method's choice for SwiGLU. */
    GATE,
    /** up_k ⊙ γ_2: the other view the method reports. */
    UP
}
