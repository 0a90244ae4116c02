package dev.engram.evaluation;

import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.WeightDelta;
import dev.engram.runtime.load.WeightDeltaFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A sequential run's progress on disk, so that a lineage of a thousand edits (many hours on these cores) can stop at
 * any moment and be continued by a later process at the same commit: in {@code dir}, {@value #FILE} holds one forced
 * JSON line per attempt (its record, whether the gate accepted it, the gates that refused it, its time) and one per
 * retention point; after an accepted edit, the lineage's whole delta is written to a directory of its own
 * ({@link WeightDeltaFiles}) before the attempt's line names it, and the directory of the line before is then removed.
 * A continued run loads the last named lineage and goes on from the next attempt; an attempt whose line was cut short
 * or never written is made again.
 */
final class SequentialJournal {
    static final String FILE = "sequential.jsonl";

    /**
     * One line: an attempt ({@code attempt} … {@code millis}; {@code lineage} names the delta directory after an
     * accepted one) or a retention point ({@code point}), by {@code method} at {@code commit}.
     */
    record Line(String commit, String method, Integer attempt, String record, Boolean accepted,
            List<String> failedGates, Long millis, String lineage, EditBenchmark.SequentialPoint point) {
    }

    private final Path dir;
    private final String commit;
    private final String method;
    private int attempts;
    private final List<String> accepted = new ArrayList<>();
    private String lineage;
    private final List<EditBenchmark.SequentialPoint> points = new ArrayList<>();

    private SequentialJournal(Path dir, String commit, String method) {
        this.dir = dir;
        this.commit = commit;
        this.method = method;
    }

    /**
     * The journal in {@code dir} (empty when there is none) of {@code method}'s run, continued at {@code commit}.
     *
     * @throws IllegalStateException when a line was measured at another commit or by another method
     */
    static SequentialJournal open(Path dir, String commit, String method) {
        SequentialJournal journal = new SequentialJournal(dir, commit, method);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Line line : ForcedLines.read(dir.resolve(FILE), Line.class, Line::commit, commit)) {
            if (!line.method().equals(method)) {
                throw new IllegalStateException(dir.resolve(FILE) + " is " + line.method() + "'s run, not " + method
                        + "'s");
            }
            if (line.point() != null) {
                journal.points.add(line.point());
                continue;
            }
            journal.attempts = line.attempt();
            if (line.accepted()) {
                journal.accepted.add(line.record());
                journal.lineage = line.lineage();
            }
        }
        return journal;
    }

    /** Attempts journaled: the next run starts at attempt {@code attempts() + 1}. */
    int attempts() {
        return attempts;
    }

    /** The labels of the records accepted so far, in order. */
    List<String> accepted() {
        return List.copyOf(accepted);
    }

    /** The retention points journaled, in order. */
    List<EditBenchmark.SequentialPoint> points() {
        return List.copyOf(points);
    }

    /** The lineage's delta after the last accepted attempt, or null when none was accepted. */
    WeightDelta lineage(ModelConfig config) {
        try {
            return lineage == null ? null : WeightDeltaFiles.read(dir.resolve(lineage), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Records attempt {@code attempt} on {@code record}: after an accepted one, first {@code lineageDelta} (the whole
     * lineage's delta) in its own directory, then the line, then the previous directory removed.
     */
    void attempt(int attempt, String record, boolean passed, List<String> failedGates, long millis,
            WeightDelta lineageDelta) {
        String written = null;
        if (passed) {
            written = "lineage-" + attempt;
            try {
                delete(dir.resolve(written)); // left by an attempt whose line was never written
                WeightDeltaFiles.write(lineageDelta, dir.resolve(written));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        ForcedLines.append(dir.resolve(FILE), new Line(commit, method, attempt, record, passed, failedGates, millis,
                written, null));
        attempts = attempt;
        if (passed) {
            accepted.add(record);
            String before = lineage;
            lineage = written;
            if (before != null) {
                delete(dir.resolve(before));
            }
        }
    }

    /** Records a retention point. */
    void point(EditBenchmark.SequentialPoint point) {
        ForcedLines.append(dir.resolve(FILE), new Line(commit, method, null, null, null, null, null, null, point));
        points.add(point);
    }

    private static void delete(Path tree) {
        if (!Files.exists(tree)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(tree)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
