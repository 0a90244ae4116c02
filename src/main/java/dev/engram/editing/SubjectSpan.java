package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.Arrays;

/**
 * The subject's tokens in an edit prompt, positions {@code first} to {@code last} inclusive. ROME and MEMIT read the
 * FFN key at {@code last}; {@link #fromEnd} says where that is in the prompt behind any prefix.
 */
public record SubjectSpan(int first, int last) {

    /** The prompt's last token alone: the span of a plain prompt, whose subject is unknown. */
    public static SubjectSpan lastTokenOf(int[] prompt) {
        return new SubjectSpan(prompt.length - 1, prompt.length - 1);
    }

    /**
     * Where {@code subject} sits in {@code prompt} = the template filled with it: the tokens of the template's text up
     * to and including the subject, when they begin the prompt's tokens; otherwise the prompt's last token.
     */
    public static SubjectSpan find(Model model, int[] prompt, String subject, String template) {
        if (template == null || subject == null || subject.isBlank() || !template.contains("{}")
                || !model.hasTokenizer()) {
            return lastTokenOf(prompt);
        }
        String before = template.substring(0, template.indexOf("{}"));
        int[] upToSubject = model.tokenizer().encodePrompt(before + subject);
        int[] beforeSubject = before.isEmpty() ? model.tokenizer().encodePrompt("")
                : model.tokenizer().encodePrompt(before.stripTrailing());
        boolean prefix = upToSubject.length <= prompt.length
                && Arrays.equals(upToSubject, Arrays.copyOf(prompt, upToSubject.length));
        if (!prefix) {
            return lastTokenOf(prompt);
        }
        int first = Math.min(beforeSubject.length, upToSubject.length - 1);
        return new SubjectSpan(first, upToSubject.length - 1);
    }

    /** How many prompt tokens follow the subject's last token. */
    public int fromEnd(int[] prompt) {
        return prompt.length - 1 - last;
    }
}
