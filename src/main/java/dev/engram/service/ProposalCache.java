package dev.engram.service;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last few verified proposals, by the checkpoint they were verified on and the request as made. Locating, editing
 * and verifying are deterministic in the request (its seed included) and the parent's weights, so an identical request
 * on the same checkpoint, such as the ApplyEdit that follows a ProposeEdit, gets the proposal already made instead of
 * repeating seconds of work. A request on another checkpoint (the head moved) is a different key.
 */
final class ProposalCache {
    private final int capacity;
    private final Map<String, EditPipeline.Proposal> entries;

    ProposalCache(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true);
    }

    /** The key of {@code request} (its JSON, without the model reference) on the checkpoint {@code parent}. */
    static String key(ModelViews.View parent, dev.engram.grpc.v1.EditRequest request) {
        return parent.model().name() + "@" + parent.checkpoint() + " "
                + EditPipeline.json(request.toBuilder().clearModel().build());
    }

    synchronized EditPipeline.Proposal get(String key) {
        return entries.get(key);
    }

    synchronized void put(String key, EditPipeline.Proposal proposal) {
        entries.put(key, proposal);
        if (entries.size() > capacity) {
            entries.remove(entries.keySet().iterator().next()); // the least recently used
        }
    }
}
