package dev.engram.runtime;

import ai.djl.ndarray.NDArray;

/**
 * One transformer block's parameters. Every matrix is stored [in, out] so that y = x · W for row vectors x.
 * In the paper's terms: row k of {@code wDown} is FFN neuron k's subvalue, column k of {@code wUp} (and
 * {@code wGate}) its subkey; row (j·d_head + e) of {@code wO} is attention neuron (j, e)'s subvalue and column
 * (g(j)·d_head + e) of {@code wV} its subkey. Optional tensors are null.
 *
 * @param attnNormWeight γ_1 (ln_1 / input_layernorm)
 * @param attnNormBias   β_1 (GPT-2 only)
 * @param wQ             [d, n_heads·d_head]
 * @param wK             [d, n_kv_heads·d_head]
 * @param wV             [d, n_kv_heads·d_head]
 * @param bQ             GPT-2, Qwen2-style biases
 * @param bK             GPT-2, Qwen2-style biases
 * @param bV             GPT-2, Qwen2-style biases
 * @param wO             [n_heads·d_head, d]
 * @param bO             b_o (GPT-2)
 * @param ffnNormWeight  γ_2 (ln_2 / post_attention_layernorm)
 * @param ffnNormBias    β_2 (GPT-2 only)
 * @param wGate          [d, d_ffn] (Llama only)
 * @param wUp            [d, d_ffn] (Llama up_proj, GPT-2 c_fc)
 * @param bUp            GPT-2 c_fc bias
 * @param wDown          [d_ffn, d] (Llama down_proj, GPT-2 mlp.c_proj)
 * @param bDown          GPT-2 mlp.c_proj bias
 */
public record LayerWeights(
        NDArray attnNormWeight, NDArray attnNormBias,
        NDArray wQ, NDArray wK, NDArray wV,
        NDArray bQ, NDArray bK, NDArray bV,
        NDArray wO, NDArray bO,
        NDArray ffnNormWeight, NDArray ffnNormBias,
        NDArray wGate, NDArray wUp, NDArray bUp,
        NDArray wDown, NDArray bDown) {

    /** These weights with {@code param}'s matrix replaced by {@code matrix}; every other array is shared. */
    public LayerWeights with(Param param, NDArray matrix) {
        return new LayerWeights(attnNormWeight, attnNormBias,
                param == Param.ATTN_Q ? matrix : wQ, param == Param.ATTN_K ? matrix : wK,
                param == Param.ATTN_V ? matrix : wV, bQ, bK, bV, param == Param.ATTN_O ? matrix : wO, bO,
                ffnNormWeight, ffnNormBias, param == Param.FFN_GATE ? matrix : wGate,
                param == Param.FFN_UP ? matrix : wUp, bUp, param == Param.FFN_DOWN ? matrix : wDown, bDown);
    }

    /** The matrix that holds {@code param} in this layer. */
    public NDArray matrix(Param param) {
        return switch (param) {
            case ATTN_Q -> wQ;
            case ATTN_K -> wK;
            case ATTN_V -> wV;
            case ATTN_O -> wO;
            case FFN_GATE -> wGate;
            case FFN_UP -> wUp;
            case FFN_DOWN -> wDown;
        };
    }
}
