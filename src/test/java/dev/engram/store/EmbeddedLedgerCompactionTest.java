package dev.engram.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded ledger's file stays near what it holds while heads move without a pause (H2 alone grows it by over ten
 * kilobytes a move at this pace and gives the space back only on close), and the compaction that keeps it there
 * loses no move and fails no concurrent reader.
 */
class EmbeddedLedgerCompactionTest {
    private static final String MODEL = "m";
    private static final int MOVES = 2000;

    @TempDir
    Path dir;

    @Test
    void headMovesWithoutPauseKeepTheFileBoundedAndEveryMove() throws Exception {
        long slack = 256 << 10;
        Path file = dir.resolve("ledger.mv.db");
        try (LedgerDatabase db = LedgerDatabase.open(LedgerUrls.h2(dir), "", "", 4, Duration.ofMillis(100), slack)) {
            Ledger ledger = new Ledger(db);
            String id = "a".repeat(64);
            ledger.commit(new CheckpointRecord(id, MODEL, CheckpointStore.BASE, id, 1, 1, 1.0, 1, "test",
                    Instant.now(), "{}", "{}"));
            List<Throwable> readerErrors = new CopyOnWriteArrayList<>();
            AtomicBoolean moving = new AtomicBoolean(true);
            Thread reader = new Thread(() -> {
                while (moving.get()) {
                    try {
                        ledger.head(MODEL);
                        ledger.list(MODEL);
                    } catch (Exception e) {
                        readerErrors.add(e);
                    }
                }
            });
            reader.start();
            long largest = 0;
            String head = id;
            try {
                for (int i = 0; i < MOVES; i++) {
                    String to = head.equals(id) ? CheckpointStore.BASE : id;
                    ledger.move(MODEL, head, to, HeadMove.ROLLBACK, "test");
                    head = to;
                    largest = Math.max(largest, Files.size(file));
                }
            } finally {
                moving.set(false);
                reader.join();
            }
            assertEquals(List.of(), readerErrors, "readers beside the compaction");
            assertEquals(MOVES + 1, ledger.history(MODEL).size(), "every head move is in the history");
            assertEquals(head, ledger.head(MODEL));
            EmbeddedLedgerCompaction compaction = db.compaction();
            assertTrue(compaction != null && compaction.compactions() >= 1, "the embedded ledger was compacted");
            // without compaction these moves leave H2's file at about 26 MB (every chunk kept for its 45 s retention)
            assertTrue(largest < (12 << 20), "the file reached " + largest + " bytes over " + MOVES + " moves");
            // once the moves stop, the next check brings the file within its bound
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (Files.size(file) > compaction.bound() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.size(file) <= compaction.bound(), Files.size(file) + " bytes > " + compaction.bound());
            // H2 writes every exception it raises to ledger.trace.db: closing the database must raise none
            assertTrue(!Files.exists(dir.resolve("ledger.trace.db")), "H2 traced exceptions: "
                    + (Files.exists(dir.resolve("ledger.trace.db")) ? Files.readString(dir.resolve("ledger.trace.db"))
                            .lines().limit(2).toList() : ""));
        }
    }

    @Test
    void aLedgerServerIsNotWrapped() throws Exception {
        assertEquals(null, EmbeddedLedgerCompaction.forUrl("jdbc:postgresql://localhost/engram", Duration.ofSeconds(1),
                0, Duration.ofSeconds(1), null));
        assertEquals(null, EmbeddedLedgerCompaction.forUrl("jdbc:h2:mem:x", Duration.ofSeconds(1), 0,
                Duration.ofSeconds(1), null));
    }
}
