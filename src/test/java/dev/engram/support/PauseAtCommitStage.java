package dev.engram.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;

/**
 * The crash test's commit observer (see {@code dev.engram.store.CommitStage}): the first commit that reaches the stage
 * {@code -Ddev.engram.store.pause-at=<stage>} names writes {@code <store>/.paused-at-<stage>} and then waits, never
 * returning, for the test to kill the process with SIGKILL there. Loaded by the server from the system class path.
 */
public final class PauseAtCommitStage implements BiConsumer<String, Path> {
    /** The stage to stop at. */
    public static final String PROPERTY = "dev.engram.store.pause-at";

    @Override
    public void accept(String stage, Path root) {
        if (!stage.equals(System.getProperty(PROPERTY))) {
            return;
        }
        try {
            Files.writeString(root.resolve(".paused-at-" + stage), stage);
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
