package dev.engram.store;

import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.WeightDelta;
import dev.engram.runtime.load.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Versioned checkpoints of each model: the files of every committed delta ({@link CheckpointFiles}) and the ledger
 * that records them and each model's head ({@link Ledger}). The base weights are never changed; a checkpoint's
 * weights are the base plus the composed deltas of its lineage. A commit publishes its files first (temp files, fsync,
 * atomic renames) and then writes its ledger row and moves the head in one transaction, so a crash at any point leaves
 * the last good head intact and never a ledger row without its files. Rollback moves the head back and deletes nothing.
 */
public final class CheckpointStore implements AutoCloseable {
    /** The id that names a model's unedited base weights. */
    public static final String BASE = "base";
    /** Shortest checkpoint id prefix accepted in place of the full id. */
    public static final int MIN_PREFIX = 8;
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern ID = Pattern.compile("[0-9a-f]{" + MIN_PREFIX + ",64}");
    private static final int CACHED_DELTAS = 64;

    private final CheckpointFiles files;
    private final Ledger ledger;
    private final LedgerDatabase db;
    private final Map<String, WeightDelta> composed = Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, WeightDelta> eldest) {
                    return size() > CACHED_DELTAS;
                }
            });

    /**
     * Opens the store {@code settings} describe (creating its directory and the ledger's tables where needed) and
     * recovers from any interrupted commit ({@link #recover}); {@code removed} hears of each leftover removed.
     */
    public static CheckpointStore open(StoreSettings settings, java.util.function.Consumer<Path> removed)
            throws IOException, SQLException {
        java.nio.file.Files.createDirectories(settings.dir());
        String url = settings.shared() ? settings.jdbcUrl() : LedgerUrls.h2(settings.dir());
        LedgerDatabase db = LedgerDatabase.open(url, settings.user(), settings.password(), settings.maxConnections());
        CheckpointStore store = new CheckpointStore(settings.dir(), db);
        try {
            store.recover(settings.recoveryMinAge()).forEach(removed);
        } catch (IOException | SQLException | RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /** Commits of this process in flight after staging, per content address. */
    private final InFlightCommits inFlight = new InFlightCommits();

    public CheckpointStore(Path root, LedgerDatabase db) {
        this.files = new CheckpointFiles(root.toAbsolutePath().normalize());
        this.ledger = new Ledger(db);
        this.db = db;
    }

    public Path root() {
        return files.root();
    }

    public String describeLedger() {
        return db.describe();
    }

    /**
     * Commits {@code delta}, made and verified on {@code parentId} (BASE or a checkpoint of the model), as the model's
     * new head. HeadMovedException, with nothing in the ledger, when the head is no longer the parent.
     */
    public CheckpointRecord commit(String model, String parentId, WeightDelta delta, String requestJson,
            String reportJson, String author) throws IOException, SQLException, HeadMovedException {
        checkModelName(model);
        if (delta.isEmpty()) {
            throw new IllegalArgumentException("an empty delta is not a checkpoint");
        }
        if (!BASE.equals(parentId)) {
            require(model, parentId);
        }
        CommitStage.BEFORE_DELTA.reached(root());
        CheckpointFiles.Staged staged = files.stage(model, parentId, delta, requestJson, reportJson);
        CommitStage.AFTER_DELTA.reached(root());
        inFlight.claim(staged.id());
        try {
            files.publish(staged);
            CommitStage.BEFORE_LEDGER.reached(root());
            CheckpointRecord record = new CheckpointRecord(staged.id(), model, parentId, delta.hash(),
                    delta.entries().size(), delta.parametersTouched(), delta.norm(), staged.bytes(), author,
                    Instant.now(), requestJson, reportJson);
            try {
                ledger.commit(record);
            } catch (HeadMovedException | SQLException | RuntimeException e) {
                removeUnnamed(model, record.id());
                throw e;
            }
            CommitStage.AFTER_LEDGER.reached(root());
            return ledger.find(record.id()).orElseThrow();
        } finally {
            inFlight.release(staged.id());
        }
    }

    /**
     * Deletes the published files of a failed commit when no ledger row names them and no other commit of this
     * process is publishing or committing the same content address (an identical edit on the same parent) and so
     * still needs them. A crash, or another replica, leaves them to {@link #recover}.
     */
    private void removeUnnamed(String model, String id) throws IOException, SQLException {
        synchronized (inFlight) {
            if (inFlight.soleClaim(id) && ledger.find(id).isEmpty()) {
                AtomicFiles.deleteTree(files.dir(model, id));
            }
        }
    }

    /**
     * Removes what a crash inside a commit can leave behind: staged {@code .incoming-*} directories, and published
     * checkpoint directories that no ledger row names (the crash came between the rename and the ledger). Only entries
     * older than {@code minAge} go, so that a replica sharing the store may be mid-commit; with a store of its own the
     * server passes zero. Returns the paths removed.
     */
    public List<Path> recover(java.time.Duration minAge) throws IOException, SQLException {
        List<Path> removed = new ArrayList<>();
        for (CheckpointFiles.Leftover leftover : files.leftovers(minAge)) {
            if (leftover.id() == null || ledger.find(leftover.id()).isEmpty()) {
                AtomicFiles.deleteTree(leftover.dir());
                removed.add(leftover.dir());
            }
        }
        return removed;
    }

    /** The model's head: a checkpoint id, or BASE. */
    public String head(String model) throws SQLException {
        return ledger.head(model);
    }

    /**
     * The checkpoint {@code ref} names for {@code model}: a full id or a unique prefix of at least {@value #MIN_PREFIX}
     * hex digits. CheckpointNotFoundException when there is none; IllegalArgumentException when it is ambiguous or
     * belongs to another model.
     */
    public CheckpointRecord require(String model, String ref) throws SQLException {
        if (!ID.matcher(ref).matches()) {
            throw new CheckpointNotFoundException("checkpoint '" + ref + "' is not a checkpoint id (" + MIN_PREFIX
                    + " to 64 lowercase hex digits, or '" + BASE + "')");
        }
        Optional<CheckpointRecord> exact = ref.length() == 64 ? ledger.find(ref) : Optional.empty();
        if (exact.isEmpty()) {
            List<String> ids = ledger.idsStartingWith(model, ref, 2);
            if (ids.size() > 1) {
                throw new IllegalArgumentException("checkpoint prefix '" + ref + "' is ambiguous in model '" + model
                        + "'; give more digits");
            }
            exact = ids.isEmpty() ? Optional.empty() : ledger.find(ids.get(0));
        }
        CheckpointRecord record = exact.orElseThrow(() -> new CheckpointNotFoundException(
                "model '" + model + "' has no checkpoint '" + ref + "'"));
        if (!record.model().equals(model)) {
            throw new IllegalArgumentException("checkpoint " + record.id() + " belongs to model '" + record.model()
                    + "', not '" + model + "'");
        }
        return record;
    }

    /**
     * The full id {@code ref} names for {@code model}: "" → the model's head; "base" → {@link #BASE}; otherwise a
     * checkpoint id or unique prefix ({@link #require}).
     */
    public String resolveId(String model, String ref) throws SQLException {
        if (ref == null || ref.isEmpty()) {
            return head(model);
        }
        return BASE.equals(ref) ? BASE : require(model, ref).id();
    }

    /**
     * The view of {@code base} at checkpoint {@code ref} (as {@link #resolveId} reads it): the base model with the
     * composed deltas of the checkpoint's lineage. Building it copies no weights.
     */
    public ResolvedView view(Model base, String ref) throws SQLException {
        String id = resolveId(base.name(), ref);
        return BASE.equals(id) ? new ResolvedView(base, id)
                : new ResolvedView(base.edited(composedDelta(base.name(), id, base.config())), id);
    }

    public List<CheckpointRecord> list(String model) throws SQLException {
        return ledger.list(model);
    }

    public List<HeadMove> history(String model) throws SQLException {
        return ledger.history(model);
    }

    /**
     * Moves the head of {@code model} to {@code to} (BASE or one of its checkpoints), expecting it at
     * {@code expectedHead} (null: whatever it is now). History is kept: no file and no row is deleted.
     */
    public String rollback(String model, String to, String expectedHead, String author)
            throws SQLException, HeadMovedException {
        String target = BASE.equals(to) ? BASE : require(model, to).id();
        String expected = expectedHead == null || expectedHead.isEmpty() ? head(model)
                : BASE.equals(expectedHead) ? BASE : require(model, expectedHead).id();
        ledger.move(model, expected, target, HeadMove.ROLLBACK, author);
        return target;
    }

    /** The checkpoints from the first edit after the base down to {@code id}, in commit order. */
    public List<CheckpointRecord> lineage(String id) throws SQLException {
        List<CheckpointRecord> chain = new ArrayList<>();
        String at = id;
        while (!BASE.equals(at)) {
            CheckpointRecord r = ledger.find(at).orElseThrow(() -> new IllegalStateException(
                    "the ledger names a parent that it does not hold"));
            chain.add(r);
            at = r.parentId();
        }
        Collections.reverse(chain);
        return chain;
    }

    /** Base + this delta gives checkpoint {@code id}'s weights: its lineage's deltas composed, still sparse. */
    public WeightDelta composedDelta(String model, String id, ModelConfig config) throws SQLException {
        if (BASE.equals(id)) {
            return WeightDelta.none();
        }
        WeightDelta cached = composed.get(id);
        if (cached != null) {
            return cached;
        }
        CheckpointRecord record = require(model, id);
        WeightDelta parent = composedDelta(model, record.parentId(), config);
        WeightDelta own = ownDelta(record, config);
        WeightDelta all = parent.then(own);
        composed.put(id, all);
        return all;
    }

    /** The delta a checkpoint itself adds to its parent, read from its files and checked against the ledger's hash. */
    public WeightDelta ownDelta(CheckpointRecord record, ModelConfig config) {
        try {
            WeightDelta own = files.readDelta(record.model(), record.id(), config);
            if (!own.hash().equals(record.deltaHash())) {
                throw new IllegalStateException("checkpoint " + record.id() + ": its files hash to " + own.hash()
                        + ", the ledger says " + record.deltaHash());
            }
            return own;
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint " + record.id() + ": cannot read its files", e);
        }
    }

    /**
     * Checks every ledger row's files and looks for files no row names ({@link StoreVerification}); leftovers younger
     * than {@code grace} are reported as possibly in flight.
     */
    public StoreVerification.Report verify(java.time.Duration grace) throws IOException, SQLException {
        return StoreVerification.run(files, ledger.snapshot(), grace);
    }

    /** Writes a consistent backup of the ledger and its files to {@code target}, which must not exist. */
    public StoreBackup.Summary backup(Path target) throws IOException, SQLException {
        return StoreBackup.backup(files, ledger.snapshot(), target);
    }

    /** Restores the backup at {@code backup} into this store, whose ledger must be empty. */
    public StoreBackup.Summary restore(Path backup) throws IOException, SQLException {
        StoreBackup.Summary summary = StoreBackup.restore(backup, files, ledger);
        composed.clear();
        return summary;
    }

    public Path dir(CheckpointRecord record) {
        return files.dir(record.model(), record.id());
    }

    private static void checkModelName(String model) {
        if (!MODEL_NAME.matcher(model).matches()) {
            throw new IllegalArgumentException("model name '" + model + "' cannot name a store directory");
        }
    }

    @Override
    public void close() {
        db.close();
    }
}
