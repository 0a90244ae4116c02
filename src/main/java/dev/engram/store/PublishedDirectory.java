package dev.engram.store;

import dev.engram.runtime.load.AtomicFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * A directory that appears whole or not at all: written in a staging directory beside it and renamed into place, so
 * a reader never sees half of it; an existing directory is never overwritten. Exports are published this way.
 */
public final class PublishedDirectory {
    /** Writes the directory's contents into {@code staging}. */
    @FunctionalInterface
    public interface Contents {
        void writeInto(Path staging) throws IOException;
    }

    private PublishedDirectory() {
    }

    /**
     * Publishes {@code target}. FileAlreadyExistsException when it exists; on any failure the staging directory is
     * removed and nothing appears at {@code target}.
     */
    public static void publish(Path target, Contents contents) throws IOException {
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString());
        }
        Path staging = target.resolveSibling(".incoming-" + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            contents.writeInto(staging);
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            AtomicFiles.deleteTree(staging);
            throw e;
        }
    }
}
