package dev.engram.editing;

import java.util.List;

/**
 * One edit request in tokens. {@code prompt} and {@code targetNew} train the edit; {@code paraphrases} and
 * {@code neighbours} only verify it and never reach training.
 *
 * @param prompt      the edit prompt (the model's conventions applied: BOS where it uses one)
 * @param targetNew   the answer the edited model must give (continuation tokens)
 * @param targetTrue  the answer being replaced
 * @param paraphrases other phrasings of the prompt that must also give {@code targetNew}
 * @param neighbours  unrelated prompts that must keep their expected answers
 */
public record EditCase(int[] prompt, int[] targetNew, int[] targetTrue, List<int[]> paraphrases,
        List<Neighbour> neighbours) {

    public EditCase {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt: has no tokens");
        }
        if (targetNew.length == 0) {
            throw new IllegalArgumentException("target_new: has no tokens");
        }
        if (targetTrue.length == 0) {
            throw new IllegalArgumentException("target_true: has no tokens");
        }
        if (java.util.Arrays.equals(targetNew, targetTrue)) {
            throw new IllegalArgumentException("target_new: equals target_true");
        }
        paraphrases = List.copyOf(paraphrases);
        neighbours = List.copyOf(neighbours);
    }
}
