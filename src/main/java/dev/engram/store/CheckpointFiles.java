package dev.engram.store;

import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.WeightDelta;
import dev.engram.runtime.load.AtomicFiles;
import dev.engram.runtime.load.WeightDeltaFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A checkpoint's files under the store root: {@code <root>/<model>/<id>/} holds the delta in its file form
 * ({@code delta.safetensors}, {@code delta.json}) plus {@code request.json} and {@code report.json}. A checkpoint is
 * staged in a fresh {@code .incoming-*} directory (each file written to a temp name, fsynced and renamed; then the
 * directory fsynced), and published by one atomic rename of that directory to its id: a reader never sees a partial
 * checkpoint directory.
 */
final class CheckpointFiles {
    static final String REQUEST = "request.json";
    static final String REPORT = "report.json";
    private static final String INCOMING = ".incoming-";

    private final Path root;

    CheckpointFiles(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path dir(String model, String id) {
        return root.resolve(model).resolve(id);
    }

    /** Files written but not yet published, and the content address they give. */
    record Staged(Path dir, String model, String id, long bytes) {
    }

    Staged stage(String model, String parentId, WeightDelta delta, String requestJson, String reportJson)
            throws IOException {
        Path modelDir = root.resolve(model);
        Files.createDirectories(modelDir);
        Path incoming = modelDir.resolve(INCOMING + UUID.randomUUID());
        Files.createDirectory(incoming);
        try {
            WeightDeltaFiles.write(delta, incoming);
            AtomicFiles.writeString(incoming.resolve(REQUEST), requestJson);
            AtomicFiles.writeString(incoming.resolve(REPORT), reportJson);
            fsync(incoming);
            String id = contentAddress(model, parentId, incoming);
            return new Staged(incoming, model, id, size(incoming));
        } catch (IOException | RuntimeException e) {
            AtomicFiles.deleteTree(incoming);
            throw e;
        }
    }

    /**
     * id = SHA-256("engram-checkpoint-v1", model, parent id, bytes of delta.safetensors, bytes of delta.json): the same
     * edit on the same parent always gets the same id, and a different parent or delta never does.
     */
    static String contentAddress(String model, String parentId, Path dir) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : List.of("engram-checkpoint-v1", model, parentId)) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            sha.update(Files.readAllBytes(dir.resolve(WeightDeltaFiles.VECTORS)));
            sha.update((byte) 0);
            sha.update(Files.readAllBytes(dir.resolve(WeightDeltaFiles.MANIFEST)));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Renames the staged directory to its id (atomic) and fsyncs the model directory. Already there, published before or
     * by a concurrent commit of the same edit on the same parent: keeps that copy. The rename is tried first, since
     * checking first would leave a window in which the other commit publishes; renaming onto a published (never empty)
     * directory fails with "Directory not empty" on Linux, "file exists" elsewhere.
     */
    void publish(Staged staged) throws IOException {
        Path target = dir(staged.model(), staged.id());
        try {
            Files.move(staged.dir(), target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileSystemException refused) {
            if (!Files.isDirectory(target)) {
                throw refused;
            }
            AtomicFiles.deleteTree(staged.dir()); // same content address: the same files are already published
            return;
        }
        fsync(target.getParent());
    }

    /**
     * Publishes a copy of {@code source}'s files as checkpoint {@code id} of {@code model}, staged and renamed as a
     * commit's files are (a restore's way in); a directory already published under the id is kept.
     */
    void publishCopy(String model, String id, Path source) throws IOException {
        Path modelDir = root.resolve(model);
        Files.createDirectories(modelDir);
        Path incoming = modelDir.resolve(INCOMING + UUID.randomUUID());
        try {
            copyFiles(source, incoming);
            fsync(incoming);
        } catch (IOException | RuntimeException e) {
            AtomicFiles.deleteTree(incoming);
            throw e;
        }
        publish(new Staged(incoming, model, id, size(incoming)));
    }

    /** Copies the regular files of {@code from} into {@code to} (created), each written atomically. */
    static void copyFiles(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> list = Files.list(from)) {
            for (Path f : list.filter(Files::isRegularFile).sorted().toList()) {
                AtomicFiles.writeBytes(to.resolve(f.getFileName().toString()), Files.readAllBytes(f));
            }
        }
    }

    /** A directory a crash may have left: staged ({@code id} null) or published under an id. */
    record Leftover(Path dir, String id) {
    }

    /** Every staged directory, and every published one (to be checked against the ledger), older than minAge. */
    List<Leftover> leftovers(java.time.Duration minAge) throws IOException {
        List<Leftover> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        java.time.Instant cutoff = java.time.Instant.now().minus(minAge);
        try (Stream<Path> models = Files.list(root)) {
            for (Path modelDir : models.filter(Files::isDirectory).toList()) {
                try (Stream<Path> entries = Files.list(modelDir)) {
                    for (Path dir : entries.filter(Files::isDirectory).toList()) {
                        if (Files.getLastModifiedTime(dir).toInstant().isAfter(cutoff)) {
                            continue;
                        }
                        String name = dir.getFileName().toString();
                        if (name.startsWith(INCOMING)) {
                            out.add(new Leftover(dir, null));
                        } else if (name.matches("[0-9a-f]{64}")) {
                            out.add(new Leftover(dir, name));
                        }
                    }
                }
            }
        }
        return out;
    }

    WeightDelta readDelta(String model, String id, ModelConfig config) throws IOException {
        return WeightDeltaFiles.read(dir(model, id), config);
    }

    static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            long total = 0;
            for (Path f : files.toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

    private static void fsync(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
