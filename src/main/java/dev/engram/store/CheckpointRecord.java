package dev.engram.store;

import java.time.Instant;

/**
 * One ledger row: a committed edit.
 *
 * @param id                content address: SHA-256 of the model, the parent id and the delta files' bytes
 * @param model             the model it edits
 * @param parentId          the checkpoint it was made and verified on; {@link CheckpointStore#BASE} for the base weights
 * @param deltaHash         the delta's content hash ({@code WeightDelta.hash()}), checked on every read of its files
 * @param vectors           edited vectors in this checkpoint's own delta
 * @param parametersTouched parameters those vectors hold
 * @param deltaNorm         Frobenius norm of its own delta
 * @param storeBytes        bytes of its files in the store
 * @param author            the principal that committed it ({@code anonymous} without auth)
 * @param createdAt         commit time
 * @param requestJson       the edit request, proto JSON
 * @param reportJson        the verification report that passed, proto JSON
 */
public record CheckpointRecord(String id, String model, String parentId, String deltaHash, int vectors,
        long parametersTouched, double deltaNorm, long storeBytes, String author, Instant createdAt,
        String requestJson, String reportJson) {
}
