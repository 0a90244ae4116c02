package dev.engram.attribution;

/** How the final norm N_f treats a residual that is not the model's real final residual (method.md). */
public enum NormMode {
    /**
     * The reference code's choice: N_f's scale is computed once from the real final residual h_T^L and reused for
     * every x, and a LayerNorm bias is dropped. Pre-softmax values are then additive: s(x + v) = s(x) + s(v).
     */
    FROZEN,
    /** The model's real final norm, its scale recomputed for every x, bias included. */
    EXACT
}
