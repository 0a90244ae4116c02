package dev.engram.verification;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditOptions;
import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.runtime.Model;
import java.util.List;

/**
 * One edit made and verified: locate → edit → verify on a model view. The parent's side of verification (its scores
 * on every prompt and its greedy continuation) does not depend on the delta, so it is measured on a second thread
 * while the edit is located and computed. Nothing here changes the parent.
 */
public record VerifiedEdit(EditResult result, Model edited, VerificationReport report) {

    public static VerifiedEdit run(Model parent, EditCase edit, EditOptions options, GateThresholds thresholds,
            List<String> sentinels) {
        return run(parent, edit, options, thresholds, sentinels, VerificationMemo.shared());
    }

    /** {@link #run}, keeping the parent's reusable measurements in {@code memo}. */
    public static VerifiedEdit run(Model parent, EditCase edit, EditOptions options, GateThresholds thresholds,
            List<String> sentinels, VerificationMemo memo) {
        Verifier verifier = new Verifier(thresholds, memo);
        ParentSide.StartedParent parentSide = verifier.startParent(parent, edit, sentinels);
        Editor editor = new Editor(parent);
        EditResult result = editor.edit(edit, options);
        Model edited = editor.apply(result);
        // the edited side starts as soon as the delta exists, whether or not the parent's side has finished
        return new VerifiedEdit(result, edited, verifier.verify(parentSide, edited));
    }
}
