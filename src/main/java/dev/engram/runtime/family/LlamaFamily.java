package dev.engram.runtime.family;

import dev.engram.runtime.FeedForward;
import dev.engram.runtime.ModelFamily;
import dev.engram.runtime.NormKind;
import dev.engram.runtime.PositionEncoding;

/**
 * Llama: RMSNorm, SwiGLU MLP, rotary positions, grouped-query attention, no biases but Qwen2's on q, k and v (HF
 * model_types llama, mistral, qwen2; llama2.c and GGUF files).
 */
public final class LlamaFamily {
    public static final ModelFamily FAMILY = new ModelFamily("LLAMA", NormKind.RMS, 0f,
            new FeedForward(true, FeedForward.Activation.SILU), PositionEncoding.ROTARY, false, true);

    private LlamaFamily() {
    }
}
