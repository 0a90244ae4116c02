package dev.engram.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commits onto a disk that fills up: the store's files on a 64 KiB tmpfs (mounted here where the machine allows; else
 * a simulated write failure, the model's directory blocked by a file). The failing commit throws, and afterwards the
 * ledger holds exactly the commits that returned, the head is the last of them, nothing staged is left on the disk,
 * and the head's delta still reads.
 */
class FullDiskStoreTest {
    @TempDir
    Path ledgerDir;
    private Path files;
    private boolean mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            // lazy: the delta just read stays memory-mapped until the JVM collects its buffer
            Process p = new ProcessBuilder("umount", "-l", files.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), "umount " + files + ": " + out);
        }
    }

    private boolean mountSmallTmpfs(Path dir) {
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.toString())
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void aFullDiskFailsTheCommitAndLeavesTheLastGoodCheckpoint() throws Exception {
        files = Path.of("target", "full-disk-" + ProcessHandle.current().pid()).toAbsolutePath();
        Files.createDirectories(files);
        mounted = mountSmallTmpfs(files);
        if (!mounted) {
            // simulated: a file where the model's directory must go makes every write of a commit fail
            Files.writeString(files.resolve(CheckpointStoreContract.NAME), "not a directory");
        }
        String bulky = "{\"note\":\"" + "x".repeat(12_000) + "\"}";
        List<String> committed = new ArrayList<>();
        try (CheckpointStore store = new CheckpointStore(files, LedgerDatabase.open(LedgerUrls.h2(ledgerDir), "", "",
                2))) {
            String parent = CheckpointStore.BASE;
            IOException full = null;
            for (int i = 0; i < 50 && full == null; i++) {
                try {
                    CheckpointRecord r = store.commit(CheckpointStoreContract.NAME, parent,
                            CheckpointStoreContract.delta(CheckpointStoreContract.MODEL, i % 5, i, i), bulky, bulky,
                            "anonymous");
                    committed.add(r.id());
                    parent = r.id();
                } catch (IOException e) {
                    full = e;
                }
            }
            assertTrue(full != null, "the disk never filled");
            assertTrue(!mounted || !committed.isEmpty(), "some commits fit on the 64 KiB disk");
            assertEquals(parent, store.head(CheckpointStoreContract.NAME), "the head is the last commit that returned");
            assertEquals(new TreeSet<>(committed), store.list(CheckpointStoreContract.NAME).stream()
                    .map(CheckpointRecord::id).collect(Collectors.toCollection(TreeSet::new)));
            if (mounted) {
                Set<String> onDisk;
                try (Stream<Path> entries = Files.list(files.resolve(CheckpointStoreContract.NAME))) {
                    onDisk = entries.map(p -> p.getFileName().toString())
                            .collect(Collectors.toCollection(TreeSet::new));
                }
                assertEquals(new TreeSet<>(committed), onDisk, "exactly the committed directories, nothing staged");
                // the head's files read back whole
                assertEquals(committed.size(), store.composedDelta(CheckpointStoreContract.NAME, parent,
                        CheckpointStoreContract.MODEL.config()).entries().size());
            }
            String head = parent;
            assertThrows(IOException.class, () -> store.commit(CheckpointStoreContract.NAME, head,
                    CheckpointStoreContract.delta(CheckpointStoreContract.MODEL, 0, 100, 100), bulky, bulky, "x"));
            assertEquals(head, store.head(CheckpointStoreContract.NAME), "a second failure moves nothing either");
        }
    }
}
