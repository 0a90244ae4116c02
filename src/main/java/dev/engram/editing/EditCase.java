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
 * @param derived     the edit's template filled with subjects of the gate's own pool, which verification sorts into
 *                    same-object and relation neighbours on the parent; never trained on; empty without a template
 * @param subject     where the subject's tokens sit in the prompt (the key-value methods read the FFN key at its last
 *                    token); the prompt's last token when the request gives a plain prompt
 * @param earlier     edits accepted earlier on the lineage, re-scored by verification so that this one does not undo
 *                    them; never trained on
 */
public record EditCase(int[] prompt, int[] targetNew, int[] targetTrue, List<int[]> paraphrases,
        List<Neighbour> neighbours, List<int[]> contrasts, List<int[]> derived, SubjectSpan subject,
        List<EarlierEdit> earlier) {

    /** An edit without contrast or derived prompts (a plain prompt, not a subject and a template). */
    public EditCase(int[] prompt, int[] targetNew, int[] targetTrue, List<int[]> paraphrases,
            List<Neighbour> neighbours) {
        this(prompt, targetNew, targetTrue, paraphrases, neighbours, List.of(), List.of(),
                SubjectSpan.lastTokenOf(prompt), List.of());
    }

    /**
     * Every prompt the edit is verified on: the prompt, its paraphrases, the neighbours, the derived prompts and the
     * earlier edits' prompts.
     */
    public List<int[]> verificationPrompts() {
        List<int[]> out = heldOutPrompts();
        out.add(prompt);
        return out;
    }

    /**
     * Only the prompts verification checks that training must never see: paraphrases, neighbours, derived prompts and
     * the earlier edits' prompts.
     */
    public List<int[]> heldOutPrompts() {
        List<int[]> out = new ArrayList<>(paraphrases);
        neighbours.forEach(n -> out.add(n.prompt()));
        out.addAll(derived);
        earlier.forEach(e -> out.add(e.prompt()));
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
        derived = List.copyOf(derived);
        earlier = List.copyOf(earlier);
        if (subject.last() >= prompt.length || subject.first() < 0 || subject.first() > subject.last()) {
            throw new IllegalArgumentException("subject: tokens " + subject + " are outside the prompt");
        }
    }

    /**
     * The same edit told its subject and template: contrast prompts built for them ({@link ContrastPrompts}) and the
     * subject's place in the prompt ({@link SubjectSpan#find}).
     */
    public EditCase withSubject(Model model, String subject, String template) {
        return new EditCase(prompt, targetNew, targetTrue, paraphrases, neighbours,
                ContrastPrompts.of(model, subject, template, verificationPrompts()), derived,
                SubjectSpan.find(model, prompt, subject, template), earlier);
    }

    /**
     * The same edit with {@code prompts} as its derived prompts; a contrast prompt among them is dropped, so the
     * gate never checks a prompt training saw.
     */
    public EditCase withDerived(List<int[]> prompts) {
        List<int[]> kept = prompts.stream().filter(p -> contrasts.stream().noneMatch(c -> java.util.Arrays.equals(c, p))
                && !java.util.Arrays.equals(p, prompt)).toList();
        return new EditCase(prompt, targetNew, targetTrue, paraphrases, neighbours, contrasts, kept, subject, earlier);
    }

    /**
     * The same edit re-scoring {@code edits}, accepted earlier on its lineage; one whose prompt is this edit's prompt or
     * one of its paraphrases is dropped, since this edit restates that fact, and a contrast prompt that is an earlier
     * edit's prompt is dropped, so training never sees a prompt the gate checks.
     */
    public EditCase withEarlier(List<EarlierEdit> edits) {
        List<EarlierEdit> kept = edits.stream().filter(e -> !java.util.Arrays.equals(e.prompt(), prompt)
                && paraphrases.stream().noneMatch(p -> java.util.Arrays.equals(p, e.prompt()))).toList();
        List<int[]> trained = contrasts.stream().filter(c -> kept.stream()
                .noneMatch(e -> java.util.Arrays.equals(e.prompt(), c))).toList();
        return new EditCase(prompt, targetNew, targetTrue, paraphrases, neighbours, trained, derived, subject, kept);
    }
}
