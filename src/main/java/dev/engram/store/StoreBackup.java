package dev.engram.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.runtime.load.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A store's backup and its restore. A backup is a directory: {@code ledger.json} (every ledger row, read in one
 * transaction), {@code checkpoints/<model>/<id>/} (the files of every row, each checkpoint's content address checked on
 * the copy) and {@code SHA256SUMS} (every file's hash; {@code sha256sum -c SHA256SUMS} checks it). It is taken while
 * servers commit: checkpoint files are immutable and published before their rows, so the rows read have their files,
 * and the backup appears whole or not at all ({@link PublishedDirectory}). A restore checks the sums and every
 * content address, copies the files into place as commits publish theirs, and then writes every row in one
 * transaction, into a store whose ledger is empty.
 */
public final class StoreBackup {
    static final String LEDGER = "ledger.json";
    static final String CHECKPOINTS = "checkpoints";
    static final String SUMS = "SHA256SUMS";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Checkpoint files whose content address is not their id: a backup or a restore stops on them. */
    public static final class DamagedFiles extends IOException {
        DamagedFiles(String message) {
            super(message);
        }
    }

    /** What a backup holds, or what a restore wrote. */
    public record Summary(int checkpoints, int heads, int files, long bytes) {
    }

    private StoreBackup() {
    }

    static Summary backup(CheckpointFiles files, LedgerSnapshot ledger, Path target) throws IOException {
        PublishedDirectory.publish(target, staging -> {
            for (CheckpointRecord r : ledger.checkpoints()) {
                Path from = files.dir(r.model(), r.id());
                Path to = staging.resolve(CHECKPOINTS).resolve(r.model()).resolve(r.id());
                CheckpointFiles.copyFiles(from, to);
                requireAddress(r, to, "the store's");
            }
            AtomicFiles.writeString(staging.resolve(LEDGER), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(toJson(ledger)));
            StringBuilder sums = new StringBuilder();
            for (Map.Entry<String, String> e : hashes(staging).entrySet()) {
                sums.append(e.getValue()).append("  ").append(e.getKey()).append('\n');
            }
            AtomicFiles.writeString(staging.resolve(SUMS), sums.toString());
        });
        return summary(target, ledger);
    }

    static Summary restore(Path backup, CheckpointFiles files, Ledger ledger) throws IOException, SQLException {
        checkSums(backup);
        LedgerSnapshot snapshot = fromJson(JSON.readTree(backup.resolve(LEDGER).toFile()));
        if (!ledger.isEmpty()) {
            throw new IllegalStateException("the store's ledger is not empty: a backup is restored into an empty store");
        }
        for (CheckpointRecord r : snapshot.parentsFirst()) {
            Path from = backup.resolve(CHECKPOINTS).resolve(r.model()).resolve(r.id());
            requireAddress(r, from, "the backup's");
            files.publishCopy(r.model(), r.id(), from);
        }
        ledger.restore(snapshot);
        return summary(backup, snapshot);
    }

    private static void requireAddress(CheckpointRecord r, Path dir, String whose) throws IOException {
        String address = CheckpointFiles.contentAddress(r.model(), r.parentId(), dir);
        if (!address.equals(r.id())) {
            throw new DamagedFiles(whose + " files of checkpoint " + r.id() + " hash to " + address
                    + ": they are damaged (run engram store verify)");
        }
    }

    private static void checkSums(Path backup) throws IOException {
        if (!Files.isRegularFile(backup.resolve(SUMS))) {
            throw new IOException(backup + " is not an Engram store backup (no " + SUMS + ")");
        }
        Map<String, String> listed = new TreeMap<>();
        for (String line : Files.readAllLines(backup.resolve(SUMS))) {
            if (!line.isBlank()) {
                listed.put(line.substring(66), line.substring(0, 64));
            }
        }
        Map<String, String> actual = hashes(backup);
        actual.remove(SUMS);
        if (!listed.equals(actual)) {
            List<String> wrong = new ArrayList<>();
            listed.forEach((file, hash) -> {
                if (!hash.equals(actual.get(file))) {
                    wrong.add(file);
                }
            });
            actual.keySet().stream().filter(f -> !listed.containsKey(f)).forEach(wrong::add);
            throw new IOException("the backup " + backup + " does not match its " + SUMS + ": " + wrong);
        }
    }

    /** SHA-256 of every file under {@code dir}, by path relative to it with '/' separators. */
    private static Map<String, String> hashes(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.filter(Files::isRegularFile).toList()) {
                MessageDigest sha = sha256();
                out.put(dir.relativize(f).toString().replace('\\', '/'),
                        HexFormat.of().formatHex(sha.digest(Files.readAllBytes(f))));
            }
        }
        return out;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Summary summary(Path dir, LedgerSnapshot ledger) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = walk.filter(Files::isRegularFile).toList();
            long bytes = 0;
            for (Path f : all) {
                bytes += Files.size(f);
            }
            return new Summary(ledger.checkpoints().size(), ledger.heads().size(), all.size(), bytes);
        }
    }

    private static ObjectNode toJson(LedgerSnapshot ledger) {
        ObjectNode root = JSON.createObjectNode().put("format", "engram-ledger-v1");
        ArrayNode checkpoints = root.putArray("checkpoints");
        for (CheckpointRecord r : ledger.checkpoints()) {
            checkpoints.addObject().put("id", r.id()).put("model", r.model()).put("parent_id", r.parentId())
                    .put("delta_hash", r.deltaHash()).put("vectors", r.vectors())
                    .put("parameters_touched", r.parametersTouched()).put("delta_norm", r.deltaNorm())
                    .put("store_bytes", r.storeBytes()).put("author", r.author())
                    .put("created_at", r.createdAt().toString()).put("request_json", r.requestJson())
                    .put("report_json", r.reportJson());
        }
        ArrayNode heads = root.putArray("heads");
        for (LedgerSnapshot.ModelHead h : ledger.heads()) {
            heads.addObject().put("model", h.model()).put("checkpoint_id", h.checkpointId())
                    .put("moved_at", h.movedAt().toString());
        }
        ArrayNode moves = root.putArray("moves");
        for (HeadMove m : ledger.moves()) {
            moves.addObject().put("seq", m.seq()).put("model", m.model()).put("from", m.from()).put("to", m.to())
                    .put("reason", m.reason()).put("author", m.author()).put("moved_at", m.movedAt().toString());
        }
        return root;
    }

    private static LedgerSnapshot fromJson(JsonNode root) throws IOException {
        if (!"engram-ledger-v1".equals(root.path("format").asText())) {
            throw new IOException(LEDGER + ": not an engram-ledger-v1 document");
        }
        List<CheckpointRecord> checkpoints = new ArrayList<>();
        for (JsonNode r : root.path("checkpoints")) {
            checkpoints.add(new CheckpointRecord(r.get("id").asText(), r.get("model").asText(),
                    r.get("parent_id").asText(), r.get("delta_hash").asText(), r.get("vectors").asInt(),
                    r.get("parameters_touched").asLong(), r.get("delta_norm").asDouble(), r.get("store_bytes").asLong(),
                    r.get("author").asText(), Instant.parse(r.get("created_at").asText()),
                    r.get("request_json").asText(), r.get("report_json").asText()));
        }
        List<LedgerSnapshot.ModelHead> heads = new ArrayList<>();
        for (JsonNode h : root.path("heads")) {
            heads.add(new LedgerSnapshot.ModelHead(h.get("model").asText(), h.get("checkpoint_id").asText(),
                    Instant.parse(h.get("moved_at").asText())));
        }
        List<HeadMove> moves = new ArrayList<>();
        for (JsonNode m : root.path("moves")) {
            moves.add(new HeadMove(m.get("seq").asLong(), m.get("model").asText(), m.get("from").asText(),
                    m.get("to").asText(), m.get("reason").asText(), m.get("author").asText(),
                    Instant.parse(m.get("moved_at").asText())));
        }
        return new LedgerSnapshot(checkpoints, heads, moves);
    }
}
