package dev.engram.service;

import dev.engram.runtime.load.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which exports stay: the newest {@code keepLast}, and any younger than {@code maxAge}; an export either rule keeps
 * stays, and with neither set every export stays. Exports are the export directory's visible subdirectories (a
 * staging {@code .incoming-*} one is never touched), dated by their modification time (set when they were published).
 */
record ExportRetention(Optional<Integer> keepLast, Optional<Duration> maxAge) {
    ExportRetention {
        keepLast.filter(n -> n < 1).ifPresent(n -> {
            throw new IllegalArgumentException("engram.store.export-keep-last must be at least 1, got " + n);
        });
    }

    boolean keepsAll() {
        return keepLast.isEmpty() && maxAge.isEmpty();
    }

    /** Removes from {@code dir} the exports the policy does not keep, never {@code justWritten}; returns their names. */
    List<String> prune(Path dir, Path justWritten, Instant now) throws IOException {
        List<String> removed = new ArrayList<>();
        if (keepsAll() || !Files.isDirectory(dir)) {
            return removed;
        }
        List<Path> newestFirst;
        try (Stream<Path> entries = Files.list(dir)) {
            newestFirst = entries.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted(Comparator.comparing(ExportRetention::modified).reversed()).toList();
        }
        for (int i = 0; i < newestFirst.size(); i++) {
            Path export = newestFirst.get(i);
            boolean recentEnough = keepLast.isPresent() && i < keepLast.get();
            boolean youngEnough = maxAge.isPresent() && modified(export).isAfter(now.minus(maxAge.get()));
            if (!recentEnough && !youngEnough && !export.equals(justWritten)) {
                AtomicFiles.deleteTree(export);
                removed.add(export.getFileName().toString());
            }
        }
        return removed;
    }

    private static Instant modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH; // gone meanwhile: the oldest, and deleting it again is harmless
        }
    }
}
