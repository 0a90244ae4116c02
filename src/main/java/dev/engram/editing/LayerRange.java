package dev.engram.editing;

/**
 * Layers a key-value method writes, first to last inclusive; -1 for either takes the method's default for the model,
 * as fractions of its depth (MEMIT on GPT-J edits 3–8 of 28 layers, AlphaEdit on Llama3-8B 4–8 of 32).
 */
public record LayerRange(int first, int last) {

    public LayerRange {
        if (first < -1 || last < -1 || (first >= 0 && last >= 0 && first > last)) {
            throw new IllegalArgumentException("options.layers: need -1 (default) or 0 <= first <= last, got "
                    + first + ".." + last);
        }
    }

    /** The range for a model of {@code layers} layers: the given ends, or [⌊0.13·L⌉, ⌊0.27·L⌉] where -1. */
    int[] resolve(int layers) {
        int from = first >= 0 ? first : (int) Math.round(0.13 * layers);
        int to = last >= 0 ? last : Math.max(from, (int) Math.round(0.27 * layers));
        if (to >= layers - 1) {
            throw new IllegalArgumentException("options.layers: layer " + to + " must be below " + (layers - 1));
        }
        int[] out = new int[to - from + 1];
        for (int i = 0; i < out.length; i++) {
            out[i] = from + i;
        }
        return out;
    }
}
