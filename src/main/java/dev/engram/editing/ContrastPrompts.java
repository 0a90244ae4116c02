package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Contrast prompts for a templated edit: its template filled with other subjects ({@link ContrastSubjects}), where a
 * learned edit keeps the parent's answer. Neurons that fire there as on the edit prompt carry the relation for every
 * subject; holding those prompts still makes the edit go through what is particular to the edited subject. Built from
 * the request's subject and template and the fixed pool alone: a filled template equal to one of the request's
 * verification prompts is left out, so training never sees a prompt it is verified on.
 */
public final class ContrastPrompts {
    /** Contrast subjects per edit. */
    public static final int COUNT = 4;

    private ContrastPrompts() {
    }

    /** The template filled with the {@value #COUNT} nearest pool subjects, minus any verification prompt; none without a template. */
    public static List<int[]> of(Model model, String subject, String template, List<int[]> verificationPrompts) {
        List<int[]> out = new ArrayList<>();
        if (template == null || !template.contains("{}") || subject == null || subject.isBlank()
                || !model.hasTokenizer()) {
            return out;
        }
        for (String other : ContrastSubjects.nearest(model, subject, COUNT)) {
            int[] prompt = model.tokenizer().encodePrompt(template.replace("{}", other));
            if (verificationPrompts.stream().noneMatch(v -> Arrays.equals(v, prompt))) {
                out.add(prompt);
            }
        }
        return out;
    }
}
