package dev.engram.bench;

import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.store.CheckpointStore;
import dev.engram.store.LedgerDatabase;
import dev.engram.store.LedgerUrls;
import dev.engram.store.StoreBackup;
import dev.engram.store.StoreVerification;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * Store care at scale (BENCHMARKS.md, "Store care"): a store of {@code n} checkpoints on stories260K, one lineage of
 * 10-row deltas on the embedded ledger, then the time of verify, backup and restore (each once: they touch every file).
 *
 * <p>{@code java -cp target/test-classes:target/classes:<deps> dev.engram.bench.StoreCareBenchmark <n>}
 */
public final class StoreCareBenchmark {
    private StoreCareBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        Model base = TestModels.sharedStories260K();
        Path root = Files.createTempDirectory("engram-store-care");
        Path storeDir = root.resolve("store");
        try (CheckpointStore store = new CheckpointStore(storeDir, LedgerDatabase.open(LedgerUrls.h2(storeDir), "", "",
                4))) {
            String parent = CheckpointStore.BASE;
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                WeightDelta.Builder delta = base.deltaBuilder();
                for (int r = 0; r < 10; r++) {
                    delta.add(i % base.config().nLayers(), Param.FFN_DOWN, WeightDelta.Slice.ROW, (i * 10 + r)
                            % base.config().dFfn(), SyntheticModels.gaussian(base.config().dModel(), i * 10L + r));
                }
                parent = store.commit("stories260K", parent, delta.build(), "{\"i\":" + i + "}", "{}", "bench").id();
            }
            System.out.printf(Locale.ROOT, "%d commits: %.1f s%n", n, (System.nanoTime() - start) / 1e9);

            start = System.nanoTime();
            StoreVerification.Report report = store.verify(Duration.ZERO);
            System.out.printf(Locale.ROOT, "verify: %.2f s, clean %s, %d checkpoints%n",
                    (System.nanoTime() - start) / 1e9, report.clean(), report.checkpoints());

            start = System.nanoTime();
            StoreBackup.Summary backup = store.backup(root.resolve("backup"));
            System.out.printf(Locale.ROOT, "backup: %.2f s, %d files, %.1f MB%n", (System.nanoTime() - start) / 1e9,
                    backup.files(), backup.bytes() / 1e6);
        }
        Path restoredDir = root.resolve("restored");
        try (CheckpointStore restored = new CheckpointStore(restoredDir, LedgerDatabase.open(
                LedgerUrls.h2(restoredDir), "", "", 4))) {
            long start = System.nanoTime();
            StoreBackup.Summary summary = restored.restore(root.resolve("backup"));
            System.out.printf(Locale.ROOT, "restore: %.2f s, %d checkpoints%n", (System.nanoTime() - start) / 1e9,
                    summary.checkpoints());
        }
        dev.engram.runtime.load.AtomicFiles.deleteTree(root);
    }
}
