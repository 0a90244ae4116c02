package dev.engram.verification;

import dev.engram.editing.ContrastSubjects;
import dev.engram.editing.EditCase;
import dev.engram.editing.SubjectPool;
import dev.engram.runtime.Model;
import java.util.List;

/**
 * The neighbours the gate finds by itself, whatever the caller names: the edit's template filled with the
 * {@value #CANDIDATES} subjects of the gate's pool ({@code neighbour-subjects.txt}) that the parent represents most
 * like the edited subject ({@link SubjectPool#nearest}). The pool holds no subject of the training contrast pool, and a
 * filled template equal to a contrast prompt is dropped ({@link EditCase#withDerived}), so training never sees one.
 * Verification sorts them on the parent ({@link DerivedChecks}): those it answers with target_true are same-object
 * neighbours (CounterFact's neighbourhood: they must keep P(true) > P(new)); the others, where the parent is
 * confident, are relation neighbours (they keep their top-1).
 */
public final class DerivedNeighbours {
    /** Pool subjects filled into the template per edit. */
    public static final int CANDIDATES = 48;
    private static final SubjectPool POOL = SubjectPool.read(DerivedNeighbours.class, "neighbour-subjects.txt");

    private DerivedNeighbours() {
    }

    /** The pool, in file order. */
    public static List<String> pool() {
        return POOL.subjects();
    }

    /**
     * {@code edit} with its derived prompts: the template filled with the nearest pool subjects (none without a subject,
     * a template with {@code {}} or a tokenizer).
     */
    public static EditCase attach(Model model, EditCase edit, String subject, String template) {
        if (template == null || !template.contains("{}") || subject == null || subject.isBlank()
                || !model.hasTokenizer()) {
            return edit;
        }
        List<String> contrast = ContrastSubjects.pool();
        List<int[]> prompts = POOL.nearest(model, subject, CANDIDATES).stream()
                .filter(s -> contrast.stream().noneMatch(c -> c.equalsIgnoreCase(s)))
                .map(s -> model.tokenizer().encodePrompt(template.replace("{}", s))).toList();
        return edit.withDerived(prompts);
    }
}
