package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.support.ServerProcess;
import dev.engram.support.Soak;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The soak in brief (2 minutes by default, {@code -Dsoak.minutes}): the packaged server under mixed load from three
 * clients (Predict, LocateFact, ProposeEdit; Rollback, ApplyEdit, Export). No call fails other than by an admission
 * refusal, every operation succeeds, and after the first 40% of the run (warm-up) threads, open files and resident
 * memory hold level: the second half of the steady window stays within a small slack of the first (resident memory:
its median within 10%), and the export
 * retention keeps the exports at two. The hour-long run and its figures are BENCHMARKS.md's (bench.SoakBenchmark).
 */
class SoakIT {
    private static final int PORT = 9031;

    private static long maxOf(List<Soak.Sample> samples, ToLongFunction<Soak.Sample> value) {
        return samples.stream().mapToLong(value).max().orElseThrow();
    }

    /** The median: one export's passing peak in a half does not decide the comparison. */
    private static double medianOf(List<Soak.Sample> samples, ToLongFunction<Soak.Sample> value) {
        long[] sorted = samples.stream().mapToLong(value).sorted().toArray();
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    }

    @Test
    void theServerHoldsSteadyUnderMixedLoad() throws Exception {
        double minutes = Double.parseDouble(System.getProperty("soak.minutes", "2"));
        Path dir = Path.of("target", "soak-it").toAbsolutePath();
        Soak.Outcome outcome;
        try (ServerProcess server = Soak.startServer(dir, PORT)) {
            outcome = new Soak(server, PORT + 100, dir.resolve("store"), dir.resolve("exports"), Soak.edits())
                    .run(Duration.ofSeconds(Math.round(minutes * 60)), Duration.ofSeconds(3), 2, null);
        }
        StringBuilder csv = new StringBuilder(Soak.Sample.header()).append('\n');
        outcome.samples().forEach(s -> csv.append(s.csv()).append('\n'));
        Files.writeString(Path.of("target", "soak-it.csv"), csv);
        System.out.println("SoakIT calls: " + outcome.calls());

        assertEquals(Map.of(), outcome.failures(), "calls that failed: " + outcome.calls());
        for (String op : List.of("Predict", "LocateFact", "ProposeEdit", "Rollback", "ApplyEdit", "Export")) {
            assertTrue(outcome.ok(op) > 0, op + " never succeeded: " + outcome.calls());
        }
        List<Soak.Sample> steady = outcome.after(minutes * 60 * 0.4);
        List<Soak.Sample> early = steady.subList(0, steady.size() / 2);
        List<Soak.Sample> late = steady.subList(steady.size() / 2, steady.size());
        assertTrue(maxOf(late, Soak.Sample::threads) <= maxOf(early, Soak.Sample::threads) + 4,
                "threads grew: " + early.get(0).threads() + " … " + steady.get(steady.size() - 1).threads());
        assertTrue(maxOf(late, Soak.Sample::openFiles) <= maxOf(early, Soak.Sample::openFiles) + 8,
                "open files grew: " + maxOf(early, Soak.Sample::openFiles) + " → " + maxOf(late, Soak.Sample::openFiles));
        double rssEarly = medianOf(early, Soak.Sample::rss);
        double rssLate = medianOf(late, Soak.Sample::rss);
        assertTrue(rssLate <= rssEarly * 1.10, String.format("resident memory grew %.1f%%: %.0f MB → %.0f MB",
                100 * (rssLate / rssEarly - 1), rssEarly / 1e6, rssLate / 1e6));
        try (Stream<Path> exports = Files.list(dir.resolve("exports"))) {
            assertTrue(exports.filter(p -> !p.getFileName().toString().startsWith(".")).count() <= 2,
                    "the retention policy keeps the last two exports");
        }
    }
}
