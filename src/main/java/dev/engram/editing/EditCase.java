package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.ArrayList;
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
 * @param contrasts   the edit's template filled with other subjects ({@link ContrastPrompts}): a learned edit keeps
 *                    the parent's answer there; empty when the request gives a plain prompt
 */
public record EditCase(int[] prompt, int[] targetNew, int[] targetTrue, List<int[]> paraphrases,
        List<Neighbour> neighbours, List<int[]> contrasts) {

    /** An edit without contrast prompts (a plain prompt, not a subject and a template). */
    public EditCase(int[] prompt, int[] targetNew, int[] targetTrue, List<int[]> paraphrases,
            List<Neighbour> neighbours) {
        this(prompt, targetNew, targetTrue, paraphrases, neighbours, List.of());
    }

    /** Every prompt the edit is verified on: the prompt, its paraphrases and the neighbours. */
    public List<int[]> verificationPrompts() {
        List<int[]> out = new ArrayList<>(paraphrases);
        out.add(prompt);
        neighbours.forEach(n -> out.add(n.prompt()));
        return out;
    }

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
        contrasts = List.copyOf(contrasts);
    }

    /** The same edit with contrast prompts built for {@code subject} and {@code template} ({@link ContrastPrompts}). */
    public EditCase withContrasts(Model model, String subject, String template) {
        return new EditCase(prompt, targetNew, targetTrue, paraphrases, neighbours,
                ContrastPrompts.of(model, subject, template, verificationPrompts()));
    }
}
