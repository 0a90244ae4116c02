package dev.engram.verification;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditOptions;
import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.List;

/**
 * Many facts solved together as one delta (a method that batches) and each verified on the one jointly edited model
 * with its own gate: the batch passes as a whole only when every fact does. Nothing here changes the parent.
 *
 * @param reports one per fact, in the order of the edits
 */
public record VerifiedBatch(EditResult result, Model edited, List<VerificationReport> reports) {

    /**
     * @param thresholds each fact's gate, in the order of {@code edits}
     */
    public static VerifiedBatch run(Model parent, List<EditCase> edits, EditOptions options,
            List<GateThresholds> thresholds, List<String> sentinels) {
        if (edits.isEmpty() || edits.size() != thresholds.size()) {
            throw new IllegalArgumentException("a batch needs its edits and one gate per edit");
        }
        Editor editor = new Editor(parent);
        EditResult result = editor.editBatch(edits, options);
        Model edited = editor.apply(result);
        List<VerificationReport> reports = new ArrayList<>();
        for (int i = 0; i < edits.size(); i++) {
            Cancellation.checkpoint();
            reports.add(new Verifier(thresholds.get(i)).verify(parent, edited, edits.get(i), sentinels));
        }
        return new VerifiedBatch(result, edited, List.copyOf(reports));
    }

    /** Whether every fact passed every gate. */
    public boolean passed() {
        return reports.stream().allMatch(VerificationReport::passed);
    }
}
