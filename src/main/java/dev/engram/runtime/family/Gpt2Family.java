package dev.engram.runtime.family;

import dev.engram.runtime.FeedForward;
import dev.engram.runtime.ModelFamily;
import dev.engram.runtime.NormKind;
import dev.engram.runtime.PositionEncoding;

/** GPT-2: LayerNorm, tanh-GELU MLP, learned positions, biases everywhere (HF model_type "gpt2"). */
public final class Gpt2Family {
    public static final ModelFamily FAMILY = new ModelFamily("GPT2", NormKind.LAYER, 0f,
            new FeedForward(false, FeedForward.Activation.GELU_TANH), PositionEncoding.LEARNED, false, false);

    private Gpt2Family() {
    }
}
