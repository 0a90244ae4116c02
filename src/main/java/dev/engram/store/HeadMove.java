package dev.engram.store;

import java.time.Instant;

/** One move of a model's head: a commit or a rollback. Checkpoint ids are {@link CheckpointStore#BASE} for the base. */
public record HeadMove(long seq, String model, String from, String to, String reason, String author, Instant movedAt) {
    public static final String COMMIT = "commit";
    public static final String ROLLBACK = "rollback";
}
