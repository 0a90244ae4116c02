package dev.engram.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A directory appears whole or not at all, and an existing one is never overwritten. */
class PublishedDirectoryTest {
    @TempDir
    Path root;

    private List<String> entries() throws IOException {
        try (Stream<Path> all = Files.list(root)) {
            return all.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aWrittenDirectoryAppearsWhole() throws IOException {
        PublishedDirectory.publish(root.resolve("export"), staging -> {
            Files.writeString(staging.resolve("a.txt"), "a");
            Files.createDirectories(staging.resolve("sub"));
            Files.writeString(staging.resolve("sub/b.txt"), "b");
        });
        assertEquals(List.of("export"), entries());
        assertEquals("b", Files.readString(root.resolve("export/sub/b.txt")));
    }

    @Test
    void aFailedWriteLeavesNothing() throws IOException {
        assertThrows(IOException.class, () -> PublishedDirectory.publish(root.resolve("export"), staging -> {
            Files.writeString(staging.resolve("a.txt"), "a");
            throw new IOException("disk full");
        }));
        assertThrows(UnsupportedOperationException.class, () -> PublishedDirectory.publish(root.resolve("export"),
                staging -> {
                    Files.writeString(staging.resolve("a.txt"), "a");
                    throw new UnsupportedOperationException("no tokenizer");
                }));
        assertEquals(List.of(), entries());
    }

    @Test
    void anExistingDirectoryIsNeverOverwritten() throws IOException {
        Files.createDirectories(root.resolve("export"));
        Files.writeString(root.resolve("export/old.txt"), "old");
        assertThrows(FileAlreadyExistsException.class, () -> PublishedDirectory.publish(root.resolve("export"),
                staging -> Files.writeString(staging.resolve("new.txt"), "new")));
        assertEquals("old", Files.readString(root.resolve("export/old.txt")));
        assertFalse(Files.exists(root.resolve("export/new.txt")));
        assertEquals(List.of("export"), entries());
    }
}
