package dev.engram.store;

/** A checkpoint reference that names no checkpoint of the model. */
public final class CheckpointNotFoundException extends RuntimeException {
    public CheckpointNotFoundException(String message) {
        super(message);
    }
}
