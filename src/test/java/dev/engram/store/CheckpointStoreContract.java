package dev.engram.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What every ledger database must do; run against H2 and against a real PostgreSQL server. */
abstract class CheckpointStoreContract {
    static final Model MODEL = TestModels.sharedStories260K();
    static final String NAME = "stories260K";
    static final int[] PROMPT = {1, 403, 407, 261, 378};

    @TempDir
    Path storeDir;
    CheckpointStore store;

    /** A fresh, empty ledger database; each call for the same test opens the same database again. */
    abstract LedgerDatabase openDatabase() throws Exception;

    /** Another fresh, empty ledger database, for a store in {@code dir} (where a restore goes). */
    abstract LedgerDatabase openEmptyDatabase(Path dir) throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = new CheckpointStore(storeDir, openDatabase());
    }

    @AfterEach
    void close() {
        store.close();
    }

    static WeightDelta delta(Model on, int layer, int row, long seed) {
        return on.deltaBuilder().add(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, row,
                SyntheticModels.gaussian(MODEL.config().dModel(), seed)).build();
    }

    CheckpointRecord commit(String parent, WeightDelta delta) throws Exception {
        return store.commit(NAME, parent, delta, "{\"edit\":" + delta.entries().size() + "}", "{\"passed\":true}",
                "anonymous");
    }

    Model view(String id) throws Exception {
        return MODEL.edited(store.composedDelta(NAME, id, MODEL.config()));
    }

    @Test
    void commitsFormALineageAndTheHeadFollowsThem() throws Exception {
        assertEquals(CheckpointStore.BASE, store.head(NAME));
        WeightDelta first = delta(MODEL, 3, 10, 1);
        CheckpointRecord a = commit(CheckpointStore.BASE, first);
        assertEquals(a.id(), store.head(NAME));
        assertEquals(64, a.id().length());
        Model afterA = view(a.id());
        WeightDelta second = delta(afterA, 3, 10, 2); // the same vector again: composition sums the changes
        CheckpointRecord b = commit(a.id(), second);
        assertEquals(b.id(), store.head(NAME));
        assertEquals(a.id(), b.parentId());
        assertEquals(List.of(a.id(), b.id()), store.lineage(b.id()).stream().map(CheckpointRecord::id).toList());
        assertEquals(List.of(a.id(), b.id()), store.list(NAME).stream().map(CheckpointRecord::id).toList());
        assertEquals(b.id(), store.require(NAME, b.id().substring(0, 10)).id(), "a unique prefix names it");
        // the served weights of b are base + a + b: compare with the view built by hand
        Model byHand = MODEL.edited(first.then(second));
        assertArrayEquals(ForwardPass.of(byHand).lastLogits(PROMPT), ForwardPass.of(view(b.id())).lastLogits(PROMPT),
                0f);
        assertTrue(Files.exists(store.dir(b).resolve(CheckpointFiles.REQUEST)));
        assertEquals(CheckpointFiles.size(store.dir(b)), b.storeBytes());
        try (Stream<Path> files = Files.walk(storeDir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith(".incoming-")
                    || p.getFileName().toString().endsWith(".tmp")), "nothing staged is left behind");
        }
    }

    @Test
    void theIdIsTheContentAddressOfParentAndDelta() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 1, 5, 7));
        // a vector that a does not touch: the delta's bytes (original and change) are the same on a and on the base
        CheckpointRecord onA = commit(a.id(), delta(view(a.id()), 2, 9, 8));
        store.rollback(NAME, CheckpointStore.BASE, null, "anonymous");
        CheckpointRecord onBase = commit(CheckpointStore.BASE, delta(MODEL, 2, 9, 8));
        assertEquals(onA.deltaHash(), onBase.deltaHash(), "the very same delta");
        assertNotEquals(onA.id(), onBase.id(), "the same delta on another parent is another checkpoint");
        store.rollback(NAME, CheckpointStore.BASE, null, "anonymous");
        CheckpointRecord same = commit(CheckpointStore.BASE, delta(MODEL, 1, 5, 7));
        assertEquals(a.id(), same.id(), "the same change on the same parent is the same checkpoint");
        assertEquals(a.id(), store.head(NAME));
    }

    @Test
    void rollbackRestoresTheParentsLogitsExactlyAndKeepsHistory() throws Exception {
        float[] base = ForwardPass.of(MODEL).lastLogits(PROMPT);
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        float[] atA = ForwardPass.of(view(a.id())).lastLogits(PROMPT);
        CheckpointRecord b = commit(a.id(), delta(view(a.id()), 4, 8, 12));
        assertFalse(java.util.Arrays.equals(atA, ForwardPass.of(view(b.id())).lastLogits(PROMPT)));

        assertEquals(a.id(), store.rollback(NAME, a.id(), b.id(), "alice"));
        assertEquals(a.id(), store.head(NAME));
        assertArrayEquals(atA, ForwardPass.of(view(store.head(NAME))).lastLogits(PROMPT), 0f);
        store.rollback(NAME, CheckpointStore.BASE, null, "alice");
        assertArrayEquals(base, ForwardPass.of(view(store.head(NAME))).lastLogits(PROMPT), 0f);

        assertEquals(2, store.list(NAME).size(), "rollback deletes no checkpoint");
        assertTrue(Files.isDirectory(store.dir(b)), "nor its files");
        List<HeadMove> moves = store.history(NAME);
        assertEquals(List.of("commit", "commit", "rollback", "rollback"), moves.stream().map(HeadMove::reason).toList());
        assertEquals(b.id(), moves.get(2).from());
        assertEquals("alice", moves.get(3).author());
    }

    @Test
    void aStaleExpectedHeadIsRefused() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        HeadMovedException e = assertThrows(HeadMovedException.class,
                () -> commit(CheckpointStore.BASE, delta(MODEL, 0, 1, 5)));
        assertEquals(a.id(), e.actual());
        assertEquals(1, store.list(NAME).size(), "the loser left no row");
        try (Stream<Path> dirs = Files.list(storeDir.resolve(NAME))) {
            assertEquals(1, dirs.count(), "and no files");
        }
        assertThrows(HeadMovedException.class, () -> store.rollback(NAME, CheckpointStore.BASE, "base", "bob"));
        assertEquals(a.id(), store.head(NAME));
    }

    /**
     * Two commits on one parent at once, four rounds of two different edits, then four of the very same edit twice
     * (one content address, published once): one wins, the other is told the head it moved to, and the winner's files
     * are there.
     */
    @Test
    void concurrentCommitsOnOneParentHaveExactlyOneWinner() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 8; round++) {
                String parent = store.head(NAME);
                Model on = view(parent);
                int other = round < 4 ? 1 : 0;
                Race race = race(pool, parent, List.of(delta(on, 0, 20 + round, 100 + 10L * round),
                        delta(on, other, 20 + round, 100 + 10L * round + other)));
                assertEquals(1, race.winners().size(), "round " + round + ": exactly one commit wins");
                CheckpointRecord winner = race.winners().get(0);
                assertEquals(List.of(winner.id()), race.movedTo(), "the loser is told the new head");
                assertEquals(winner.id(), store.head(NAME));
                // its files are there and load (a missing or altered file is refused)
                assertFalse(view(winner.id()).delta().isEmpty());
            }
            assertEquals(8, store.list(NAME).size());
            try (Stream<Path> dirs = Files.list(storeDir.resolve(NAME))) {
                assertEquals(8, dirs.count(), "one directory per checkpoint, no loser's or staged files");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The same edit committed twice at once on a parent that is no longer the head: both share one content address
     * and one published directory, both lose, and each is told where the head went (not a file error from the other's
     * clean-up); no directory of theirs is left.
     */
    @Test
    void twoIdenticalStaleCommitsBothHearTheHeadMoved() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 30; round++) {
                WeightDelta same = delta(MODEL, 0, 40 + round, 200 + round);
                Race race = race(pool, CheckpointStore.BASE, List.of(same, same));
                assertEquals(List.of(a.id(), a.id()), race.movedTo(), "round " + round);
            }
            try (Stream<Path> dirs = Files.list(storeDir.resolve(NAME))) {
                assertEquals(1, dirs.count(), "only the winner's directory");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Commits that raced: those that won, and the head each loser was told it had moved to. */
    private record Race(List<CheckpointRecord> winners, List<String> movedTo) {
    }

    /** Commits every delta on {@code parent} at once, one thread each, released together. */
    private Race race(ExecutorService pool, String parent, List<WeightDelta> deltas) throws Exception {
        CyclicBarrier start = new CyclicBarrier(deltas.size());
        List<Future<CheckpointRecord>> racers = new ArrayList<>();
        for (WeightDelta d : deltas) {
            racers.add(pool.submit((Callable<CheckpointRecord>) () -> {
                start.await();
                return commit(parent, d);
            }));
        }
        List<CheckpointRecord> winners = new ArrayList<>();
        List<String> movedTo = new ArrayList<>();
        for (Future<CheckpointRecord> f : racers) {
            try {
                winners.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                movedTo.add(((HeadMovedException) e.getCause()).actual());
            }
        }
        return new Race(winners, movedTo);
    }

    /** One call resolves a view: "" the head, "base" the base itself, a full id or a unique prefix its lineage. */
    @Test
    void aViewIsResolvedFromTheHeadBaseAnIdOrAPrefix() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        CheckpointRecord b = commit(a.id(), delta(view(a.id()), 1, 5, 12));
        assertEquals(b.id(), store.view(MODEL, "").checkpoint());
        ResolvedView base = store.view(MODEL, CheckpointStore.BASE);
        assertEquals(CheckpointStore.BASE, base.checkpoint());
        assertTrue(base.model() == MODEL, "the base is the model itself");
        ResolvedView byPrefix = store.view(MODEL, a.id().substring(0, CheckpointStore.MIN_PREFIX));
        assertEquals(a.id(), byPrefix.checkpoint());
        assertArrayEquals(ForwardPass.of(view(a.id())).lastLogits(PROMPT),
                ForwardPass.of(byPrefix.model()).lastLogits(PROMPT), 0f);
        assertArrayEquals(ForwardPass.of(view(b.id())).lastLogits(PROMPT),
                ForwardPass.of(store.view(MODEL, b.id()).model()).lastLogits(PROMPT), 0f);
        assertThrows(CheckpointNotFoundException.class, () -> store.view(MODEL, "0123456789abcdef"));
    }

    @Test
    void theLedgerSurvivesAReopen() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        float[] atA = ForwardPass.of(view(a.id())).lastLogits(PROMPT);
        store.close();
        store = new CheckpointStore(storeDir, openDatabase());
        assertEquals(a.id(), store.head(NAME));
        assertEquals(a, store.require(NAME, a.id()));
        assertArrayEquals(atA, ForwardPass.of(view(a.id())).lastLogits(PROMPT), 0f);
    }

    @Test
    void badReferencesAreNamed() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        assertThrows(CheckpointNotFoundException.class, () -> store.require(NAME, "0123456789abcdef"));
        assertThrows(CheckpointNotFoundException.class, () -> store.require(NAME, "../../etc"));
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> store.require("smollm2", a.id()));
        assertTrue(other.getMessage().contains("belongs to model 'stories260K'"), other.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.rollback("smollm2", a.id(), null, "x"));
        assertThrows(CheckpointNotFoundException.class,
                () -> commit("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", delta(MODEL, 1, 1, 1)));
    }

    @Test
    void aFailedFileWriteLeavesNoRowAndTheHeadWhereItWas() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        WeightDelta next = delta(view(a.id()), 0, 0, 3);
        Path modelDir = storeDir.resolve(NAME);
        // the store directory cannot take new files: staging fails before the ledger is touched
        Path moved = storeDir.resolve("moved-away");
        Files.move(modelDir, moved);
        Files.writeString(modelDir, "not a directory");
        assertThrows(java.io.IOException.class, () -> commit(a.id(), next));
        Files.delete(modelDir);
        Files.move(moved, modelDir);
        assertEquals(a.id(), store.head(NAME));
        assertEquals(1, store.list(NAME).size());
    }

    @Test
    void tamperedFilesAreNeverServed() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
        store.close();
        store = new CheckpointStore(storeDir, openDatabase()); // no cached delta
        Path manifest = store.dir(a).resolve("delta.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"index\" : 3", "\"index\" : 4"));
        assertThrows(IllegalArgumentException.class, () -> store.composedDelta(NAME, a.id(), MODEL.config()));
        // files swapped for another delta that is consistent in itself: the ledger's hash still catches it
        dev.engram.runtime.load.WeightDeltaFiles.write(delta(MODEL, 2, 3, 99), store.dir(a));
        IllegalStateException swapped = assertThrows(IllegalStateException.class,
                () -> store.composedDelta(NAME, a.id(), MODEL.config()));
        assertTrue(swapped.getMessage().contains("the ledger says"), swapped.getMessage());
    }

    private static java.util.Set<String> findings(StoreVerification.Report report) {
        return report.findings().stream().map(f -> f.problem() + " " + f.path()).collect(
                java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }

    private static Path aged(Path dir) throws Exception {
        Files.setLastModifiedTime(dir, java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(java.time.Duration.ofHours(2))));
        return dir;
    }

    @Test
    void verifyFindsDamagedMissingAndUnnamedFiles() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 21));
        CheckpointRecord b = commit(a.id(), delta(view(a.id()), 1, 4, 22));
        StoreVerification.Report clean = store.verify(java.time.Duration.ZERO);
        assertTrue(clean.clean(), clean.toString());
        assertEquals(2, clean.checkpoints());
        assertEquals(List.of(), clean.findings());

        // one bit of b's vectors flipped; a's request edited; a published directory and a staging one that no row
        // names, old; a young staging directory (a commit in flight)
        Path vectors = store.dir(b).resolve(dev.engram.runtime.load.WeightDeltaFiles.VECTORS);
        byte[] bytes = Files.readAllBytes(vectors);
        bytes[bytes.length - 1] ^= 1;
        Files.write(vectors, bytes);
        Files.writeString(store.dir(a).resolve(CheckpointFiles.REQUEST), "{\"edit\":2}");
        String orphanId = "ab".repeat(32);
        Path orphan = storeDir.resolve(NAME).resolve(orphanId);
        Files.createDirectories(orphan);
        Files.writeString(orphan.resolve("delta.json"), "{}");
        aged(orphan);
        aged(Files.createDirectories(storeDir.resolve(NAME).resolve(".incoming-old")));
        Files.createDirectories(storeDir.resolve(NAME).resolve(".incoming-young"));

        StoreVerification.Report damaged = store.verify(java.time.Duration.ofMinutes(10));
        assertFalse(damaged.clean());
        assertEquals(java.util.Set.of("WRONG_CONTENT " + NAME + "/" + b.id(),
                "WRONG_CONTENT " + NAME + "/" + a.id() + "/" + CheckpointFiles.REQUEST,
                "ORPHAN " + NAME + "/" + orphanId, "HALF_STAGED " + NAME + "/.incoming-old",
                "IN_FLIGHT " + NAME + "/.incoming-young"), findings(damaged));
        assertEquals(1, damaged.findings().stream().filter(f -> !f.fails()).count());

        dev.engram.runtime.load.AtomicFiles.deleteTree(store.dir(b));
        assertTrue(findings(store.verify(java.time.Duration.ofMinutes(10)))
                .contains("MISSING_FILES " + NAME + "/" + b.id()));
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> store.backup(storeDir.resolveSibling(storeDir.getFileName() + "-backup")),
                "a damaged store is not backed up");
    }

    @Test
    void aBackupRestoresIntoAnEmptyStoreWithTheSameHeadsHistoryAndWeights() throws Exception {
        CheckpointRecord a = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 31));
        CheckpointRecord b = commit(a.id(), delta(view(a.id()), 4, 8, 32));
        store.rollback(NAME, a.id(), b.id(), "alice");
        CheckpointRecord c = commit(a.id(), delta(view(a.id()), 0, 1, 33));
        store.commit("other-model", CheckpointStore.BASE, delta(MODEL, 1, 1, 34), "{}", "{}", "bob");
        float[] atC = ForwardPass.of(view(c.id())).lastLogits(PROMPT);

        Path backups = Files.createTempDirectory("engram-backups");
        Path backup = backups.resolve("nightly");
        StoreBackup.Summary summary = store.backup(backup);
        assertEquals(4, summary.checkpoints());
        assertEquals(2, summary.heads());
        assertTrue(Files.isRegularFile(backup.resolve(StoreBackup.SUMS)));
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> store.backup(backup));

        Path restoredDir = Files.createTempDirectory("engram-restored");
        try (CheckpointStore restored = new CheckpointStore(restoredDir, openEmptyDatabase(restoredDir))) {
            StoreBackup.Summary wrote = restored.restore(backup);
            assertEquals(4, wrote.checkpoints());
            assertEquals(c.id(), restored.head(NAME));
            assertEquals(store.head("other-model"), restored.head("other-model"));
            assertEquals(store.list(NAME), restored.list(NAME));
            assertEquals(store.history(NAME).stream().map(m -> List.of(m.from(), m.to(), m.reason(), m.author()))
                    .toList(), restored.history(NAME).stream().map(m -> List.of(m.from(), m.to(), m.reason(),
                            m.author())).toList());
            assertArrayEquals(atC, ForwardPass.of(MODEL.edited(restored.composedDelta(NAME, c.id(),
                    MODEL.config()))).lastLogits(PROMPT), 0f);
            StoreVerification.Report check = restored.verify(java.time.Duration.ZERO);
            assertTrue(check.clean(), check.toString());
            // the restored store commits on: the head's compare-and-set and the history's numbering go on
            CheckpointRecord d = restored.commit(NAME, c.id(), delta(MODEL.edited(restored.composedDelta(NAME,
                    c.id(), MODEL.config())), 3, 2, 35), "{}", "{}", "carol");
            assertEquals(d.id(), restored.head(NAME));
            assertEquals("carol", restored.history(NAME).get(restored.history(NAME).size() - 1).author());
            IllegalStateException twice = assertThrows(IllegalStateException.class, () -> restored.restore(backup));
            assertTrue(twice.getMessage().contains("not empty"), twice.getMessage());
        }

        // a backup whose files changed after it was taken is refused before anything is written
        Path vectors;
        try (Stream<Path> walk = Files.walk(backup)) {
            vectors = walk.filter(p -> p.getFileName().toString().equals("delta.safetensors")).findFirst()
                    .orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(vectors);
        bytes[bytes.length - 1] ^= 1;
        Files.write(vectors, bytes);
        Path second = Files.createTempDirectory("engram-restored");
        try (CheckpointStore restored = new CheckpointStore(second, openEmptyDatabase(second))) {
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> restored.restore(backup));
            assertTrue(e.getMessage().contains("SHA256SUMS"), e.getMessage());
            assertEquals(CheckpointStore.BASE, restored.head(NAME));
            try (Stream<Path> left = Files.list(second)) {
                assertFalse(left.anyMatch(p -> p.getFileName().toString().equals(NAME)), "no file was restored");
            }
        }
    }
}
