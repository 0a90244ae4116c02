package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Contrast prompts for a templated edit: the template with its subject replaced by placeholders that name nothing in
 * particular ("The capital of it is"). Neurons that fire there carry the relation for every subject, not this
 * subject's fact; a learned edit that keeps the parent's answer on these prompts has to make its change through the
 * subject's own neurons, so it does not spill onto other subjects of the same relation. Built from the request alone:
 * paraphrases and neighbours never appear here.
 */
public final class ContrastPrompts {
    /** Placeholders with no subject of their own. */
    private static final String[] PLACEHOLDERS = {"it", "this", "something"};

    private ContrastPrompts() {
    }

    /** The template with each placeholder in place of {@code {}}, capitalised where the template starts with it. */
    public static List<int[]> of(Model model, String template) {
        List<int[]> out = new ArrayList<>();
        if (template == null || !template.contains("{}") || !model.hasTokenizer()) {
            return out;
        }
        for (String placeholder : PLACEHOLDERS) {
            String filler = template.startsWith("{}")
                    ? placeholder.substring(0, 1).toUpperCase(Locale.ROOT) + placeholder.substring(1) : placeholder;
            out.add(model.tokenizer().encodePrompt(template.replace("{}", filler)));
        }
        return out;
    }
}
