package dev.engram.runtime.family;

import dev.engram.runtime.FeedForward;
import dev.engram.runtime.ModelFamily;
import dev.engram.runtime.NormKind;
import dev.engram.runtime.PositionEncoding;

/**
 * Gemma (the first generation): Llama's blocks with a GeGLU MLP (tanh-GELU gate), RMSNorm whose stored weight w is
 * applied as (1 + w), embeddings scaled by sqrt(d) on the way in and tied to the unembedding (HF model_type "gemma").
 */
public final class GemmaFamily {
    public static final ModelFamily FAMILY = new ModelFamily("GEMMA", NormKind.RMS, 1f,
            new FeedForward(true, FeedForward.Activation.GELU_TANH), PositionEncoding.ROTARY, true, true);

    private GemmaFamily() {
    }
}
