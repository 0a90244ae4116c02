package dev.engram.inference;

import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;

/** What a model view predicts for whole prompts: the inference layer's entry for readers above it. */
public final class Predictions {
    private Predictions() {
    }

    /** p(· | prompt) after the prompt's last token. */
    public static NextTokenDistribution next(Model model, int[] prompt) {
        return new NextTokenDistribution(ForwardPass.of(model).lastLogits(prompt));
    }

    /** The logits at every position of {@code tokens}, row-major [T, V]. */
    public static float[] logitsEveryPosition(Model model, int[] tokens) {
        try (Trace trace = ForwardPass.of(model).logits(tokens)) {
            return trace.logits().toFloatArray();
        }
    }
}
