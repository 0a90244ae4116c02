package dev.engram.runtime;

/** The two transformer families the runtime implements. */
public enum ModelFamily {
    /** LayerNorm, tanh-GELU MLP, learned positions, biases everywhere (HF model_type "gpt2"). */
    GPT2,
    /** RMSNorm, SwiGLU MLP, rotary positions, grouped-query attention (llama, mistral, qwen2). */
    LLAMA
}
