package dev.engram.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The points of a commit where a crash leaves a different state on disk. A crash test starts the server with
 * {@code -Ddev.engram.store.pause-at=<stage>} (before-delta, after-delta, before-ledger, after-ledger): the first commit
 * that reaches that stage writes {@code <store>/.paused-at-<stage>} and then waits, never returning, for the test to
 * kill the process with SIGKILL there. Without the property nothing happens.
 */
enum CommitStage {
    /** Nothing written yet. */
    BEFORE_DELTA,
    /** The delta and its files staged and fsynced in an {@code .incoming-*} directory, not yet published. */
    AFTER_DELTA,
    /** The checkpoint directory published under its id; no ledger row yet. */
    BEFORE_LEDGER,
    /** The ledger row written and the head moved, in one committed transaction. */
    AFTER_LEDGER;

    static final String PROPERTY = "dev.engram.store.pause-at";

    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    void reached(Path root) {
        if (!label().equals(System.getProperty(PROPERTY))) {
            return;
        }
        try {
            Files.writeString(root.resolve(".paused-at-" + label()), label());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
