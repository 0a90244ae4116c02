package dev.engram.store;

import dev.engram.runtime.load.WeightDeltaFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A store checked against its ledger: every row's directory present with all its files, the delta files hashing to
 * the row's id (the id is their content address), the request and report equal to the row's, the byte count the row
 * records; every head on a checkpoint of its own model; and nothing on disk that no row names (an orphan published
 * directory, a half-staged {@code .incoming-*} one). Leftovers younger than a grace period may belong to a commit in
 * flight on a running server or replica: they are reported and do not fail the check.
 */
public final class StoreVerification {
    /** What a finding is about. */
    public enum Problem {
        MISSING_FILES, WRONG_CONTENT, WRONG_HEAD, ORPHAN, HALF_STAGED, IN_FLIGHT
    }

    /** One thing found, {@code path} relative to the store's directory. */
    public record Finding(Problem problem, String path, String detail) {
        public boolean fails() {
            return problem != Problem.IN_FLIGHT;
        }
    }

    /** The whole check: how much was checked, and what was found. */
    public record Report(int checkpoints, int heads, List<Finding> findings) {
        public boolean clean() {
            return findings.stream().noneMatch(Finding::fails);
        }
    }

    private StoreVerification() {
    }

    static Report run(CheckpointFiles files, LedgerSnapshot ledger, Duration grace) throws IOException {
        Path root = files.root();
        List<Finding> found = new ArrayList<>();
        Map<String, CheckpointRecord> rows = new HashMap<>();
        for (CheckpointRecord r : ledger.checkpoints()) {
            rows.put(r.id(), r);
            checkRow(files, r, found);
        }
        for (LedgerSnapshot.ModelHead head : ledger.heads()) {
            CheckpointRecord at = rows.get(head.checkpointId());
            if (!CheckpointStore.BASE.equals(head.checkpointId()) && (at == null || !at.model().equals(head.model()))) {
                found.add(new Finding(Problem.WRONG_HEAD, head.model(), "the head names checkpoint "
                        + head.checkpointId() + ", which is not one of the model's"));
            }
        }
        // after the ledger was read: a commit published since is young, and so reported as in flight
        Instant cutoff = Instant.now().minus(grace);
        for (CheckpointFiles.Leftover leftover : files.leftovers(Duration.ZERO)) {
            boolean staged = leftover.id() == null;
            if (!staged && rows.containsKey(leftover.id())) {
                continue;
            }
            String path = root.relativize(leftover.dir()).toString();
            if (Files.getLastModifiedTime(leftover.dir()).toInstant().isAfter(cutoff)) {
                found.add(new Finding(Problem.IN_FLIGHT, path, "younger than " + grace + ": a commit may be writing it"));
            } else {
                found.add(staged ? new Finding(Problem.HALF_STAGED, path, "a commit's staging directory, never published")
                        : new Finding(Problem.ORPHAN, path, "published files that no ledger row names"));
            }
        }
        return new Report(ledger.checkpoints().size(), ledger.heads().size(), found);
    }

    private static void checkRow(CheckpointFiles files, CheckpointRecord r, List<Finding> found) throws IOException {
        Path dir = files.dir(r.model(), r.id());
        String path = files.root().relativize(dir).toString();
        List<String> missing = new ArrayList<>();
        for (String name : List.of(WeightDeltaFiles.VECTORS, WeightDeltaFiles.MANIFEST, CheckpointFiles.REQUEST,
                CheckpointFiles.REPORT)) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            found.add(new Finding(Problem.MISSING_FILES, path, "the ledger row's files lack " + String.join(", ", missing)));
            return;
        }
        String address = CheckpointFiles.contentAddress(r.model(), r.parentId(), dir);
        if (!address.equals(r.id())) {
            found.add(new Finding(Problem.WRONG_CONTENT, path, "the delta files hash to " + address));
        }
        if (!Files.readString(dir.resolve(CheckpointFiles.REQUEST), StandardCharsets.UTF_8).equals(r.requestJson())) {
            found.add(new Finding(Problem.WRONG_CONTENT, path + "/" + CheckpointFiles.REQUEST,
                    "differs from the ledger's request"));
        }
        if (!Files.readString(dir.resolve(CheckpointFiles.REPORT), StandardCharsets.UTF_8).equals(r.reportJson())) {
            found.add(new Finding(Problem.WRONG_CONTENT, path + "/" + CheckpointFiles.REPORT,
                    "differs from the ledger's report"));
        }
        long bytes = CheckpointFiles.size(dir);
        if (bytes != r.storeBytes()) {
            found.add(new Finding(Problem.WRONG_CONTENT, path, bytes + " bytes, the ledger says " + r.storeBytes()));
        }
    }
}
