package dev.engram.store;

import dev.engram.runtime.Model;

/**
 * A model view and the checkpoint it is.
 *
 * @param model      the base model with the composed deltas of the checkpoint's lineage (no weights copied)
 * @param checkpoint the checkpoint's full id, or {@link CheckpointStore#BASE}
 */
public record ResolvedView(Model model, String checkpoint) {
}
