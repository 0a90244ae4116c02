package dev.engram.service;

import dev.engram.editing.EarlierEdit;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.runtime.Model;
import dev.engram.store.CheckpointRecord;
import dev.engram.store.CheckpointStore;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The edits accepted on a checkpoint's lineage, oldest first, in tokens: read back from the requests the ledger holds
 * for each commit (its prompt, target_new and the target_true it was verified against; every fact of a joint batch). Kept per checkpoint id, so a
 * lineage that grows one commit at a time reads one ledger row per commit. A row committed before target_true was
 * recorded (an empty one) is skipped: what it replaced is not known.
 */
final class LineageEdits {
    private static final int CAPACITY = 64;
    private final Map<String, List<EarlierEdit>> byCheckpoint = new LinkedHashMap<>(16, 0.75f, true);

    /** The lineage of {@code checkpoint} of {@code model}'s store; empty for the base. */
    List<EarlierEdit> of(CheckpointStore store, Model model, String checkpoint) {
        Deque<CheckpointRecord> unread = new ArrayDeque<>();
        List<EarlierEdit> known = GrpcErrors.store(() -> {
            String at = checkpoint;
            while (!CheckpointStore.BASE.equals(at)) {
                List<EarlierEdit> cached = cached(at);
                if (cached != null) {
                    return cached;
                }
                CheckpointRecord r = store.require(model.name(), at);
                unread.push(r);
                at = r.parentId();
            }
            return List.<EarlierEdit>of();
        });
        List<EarlierEdit> edits = new ArrayList<>(known);
        while (!unread.isEmpty()) {
            CheckpointRecord r = unread.pop();
            for (EditRequest request : CommittedEdits.requests(r)) {
                if (!request.getTargetTrue().isEmpty()) {
                    edits.add(new EarlierEdit(model.tokenizer().encodePrompt(EditRequests.promptText(request)),
                            model.tokenizer().encodeContinuation(request.getTargetNew()),
                            model.tokenizer().encodeContinuation(request.getTargetTrue())));
                }
            }
            put(r.id(), List.copyOf(edits));
        }
        return List.copyOf(edits);
    }

    private synchronized List<EarlierEdit> cached(String id) {
        return byCheckpoint.get(id);
    }

    private synchronized void put(String id, List<EarlierEdit> edits) {
        byCheckpoint.put(id, edits);
        if (byCheckpoint.size() > CAPACITY) {
            byCheckpoint.remove(byCheckpoint.keySet().iterator().next()); // the least recently used
        }
    }
}
