package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The export retention policy on real directories dated by their modification times. */
class ExportRetentionTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    /** Exports e0 (newest, 0 h old) … e4 (4 h old), and a staging directory 9 h old. */
    private static void exports(Path dir) throws Exception {
        for (int i = 0; i < 5; i++) {
            Path e = Files.createDirectories(dir.resolve("e" + i));
            Files.writeString(e.resolve("config.json"), "{}");
            Files.setLastModifiedTime(e, FileTime.from(NOW.minus(Duration.ofHours(i))));
        }
        Path staging = Files.createDirectories(dir.resolve(".incoming-x"));
        Files.setLastModifiedTime(staging, FileTime.from(NOW.minus(Duration.ofHours(9))));
    }

    private static TreeSet<String> left(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void keepLastKeepsTheNewest(@TempDir Path dir) throws Exception {
        exports(dir);
        List<String> removed = new ExportRetention(Optional.of(2), Optional.empty()).prune(dir, dir.resolve("e0"), NOW);
        assertEquals(new TreeSet<>(List.of("e2", "e3", "e4")), new TreeSet<>(removed));
        assertEquals(new TreeSet<>(List.of(".incoming-x", "e0", "e1")), left(dir));
    }

    @Test
    void maxAgeKeepsTheYoungAndEitherRuleKeeps(@TempDir Path dir) throws Exception {
        exports(dir);
        new ExportRetention(Optional.empty(), Optional.ofNullable(Duration.ofMinutes(150))).prune(dir, null, NOW);
        assertEquals(new TreeSet<>(List.of(".incoming-x", "e0", "e1", "e2")), left(dir));
        new ExportRetention(Optional.of(1), Optional.ofNullable(Duration.ofMinutes(90))).prune(dir, null, NOW);
        assertEquals(new TreeSet<>(List.of(".incoming-x", "e0", "e1")), left(dir));
    }

    @Test
    void theExportJustWrittenAndAnUnsetPolicyKeepEverything(@TempDir Path dir) throws Exception {
        exports(dir);
        assertEquals(List.of(), new ExportRetention(Optional.empty(), Optional.empty()).prune(dir, null, NOW));
        // an export published with an old modification time (a copied directory) is still never its own victim
        new ExportRetention(Optional.of(1), Optional.empty()).prune(dir, dir.resolve("e4"), NOW);
        assertEquals(new TreeSet<>(List.of(".incoming-x", "e0", "e4")), left(dir));
        assertThrows(IllegalArgumentException.class, () -> new ExportRetention(Optional.of(0), Optional.empty()));
    }
}
