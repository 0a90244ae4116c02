package dev.engram.verification;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditOptions;
import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

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
        // every fact's continuations, decoded side by side on each view (one pass per token for many facts) instead
        // of one fact after another; the facts then read them from this batch's memo
        VerificationMemo memo = VerificationMemo.empty(3 * edits.size());
        decodeAhead(parent, edits, thresholds, memo, ParentSide::decodedPrompts);
        Editor editor = new Editor(parent);
        EditResult result = editor.editBatch(edits, options);
        Model edited = editor.apply(result);
        decodeAhead(edited, edits, thresholds, memo, e -> List.of(e.prompt()));
        List<VerificationReport> reports = new ArrayList<>();
        for (int i = 0; i < edits.size(); i++) {
            Cancellation.checkpoint();
            // the sentinel prompts are scored once on the edited view, for the first fact
            reports.add(new Verifier(thresholds.get(i), memo).verify(parent, edited, edits.get(i), sentinels));
        }
        return new VerifiedBatch(result, edited, List.copyOf(reports));
    }

    /** The continuations {@code view} gives of each fact's {@code prompts}, at each gate's length, kept in the memo. */
    private static void decodeAhead(Model view, List<EditCase> edits, List<GateThresholds> thresholds,
            VerificationMemo memo, Function<EditCase, List<int[]>> prompts) {
        Map<Integer, List<int[]>> byLength = new TreeMap<>();
        for (int i = 0; i < edits.size(); i++) {
            byLength.computeIfAbsent(thresholds.get(i).fluencyTokens(), t -> new ArrayList<>())
                    .addAll(prompts.apply(edits.get(i)));
        }
        byLength.forEach((tokens, all) -> memo.continuationsOf(view, all, tokens));
    }

    /** Whether every fact passed every gate. */
    public boolean passed() {
        return reports.stream().allMatch(VerificationReport::passed);
    }
}
