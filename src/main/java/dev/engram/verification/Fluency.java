package dev.engram.verification;

/** Greedy continuations of the edit prompt on both models and their n-gram entropies ({@link NgramEntropy}). */
public record Fluency(String parentText, String editedText, double parentEntropy, double editedEntropy) {

    /** (parent − edited) / parent; negative when the edited text is more varied. */
    public double relativeDrop() {
        return parentEntropy == 0 ? 0 : (parentEntropy - editedEntropy) / parentEntropy;
    }
}
