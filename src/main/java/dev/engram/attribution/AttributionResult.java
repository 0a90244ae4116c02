package dev.engram.attribution;

import java.util.List;

/** The attribution of a (possibly multi-token) target after a prompt: one step per target token. */
public record AttributionResult(String model, int[] promptTokens, NormMode mode, List<StepAttribution> steps) {

    /** Σ over the target's tokens of log p(w_i | h^L) − log p(w_i | h^0). */
    public double totalGain() {
        return steps.stream().mapToDouble(StepAttribution::gain).sum();
    }
}
