package dev.engram.evaluation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The single edits of a long benchmark run, one JSON line each, appended (and forced to disk) as each finishes, so that
 * a run of many hours can stop at any moment and be continued later, by another process or on another day, from where
 * it stopped: a line is never measured twice. Every line names the commit that measured it, and a journal continues
 * only at that commit, so that all its lines are one run of one code. A last line cut short by a kill is ignored.
 */
final class SingleEditJournal {
    /** One journal line: {@code edit} (which names its record) by {@code method}, measured at {@code commit}. */
    record Line(String commit, String method, EditBenchmark.SingleEdit edit) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final String commit;
    private final Map<String, EditBenchmark.SingleEdit> done = new LinkedHashMap<>();

    private SingleEditJournal(Path file, String commit) {
        this.file = file;
        this.commit = commit;
    }

    /**
     * The journal at {@code file} (empty when there is none), continued at {@code commit}.
     *
     * @throws IllegalStateException when a line was measured at another commit
     */
    static SingleEditJournal open(Path file, String commit) {
        SingleEditJournal journal = new SingleEditJournal(file, commit);
        if (!Files.exists(file)) {
            return journal;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            Line line;
            try {
                line = JSON.readValue(lines.get(i), Line.class);
            } catch (JsonProcessingException e) {
                if (i == lines.size() - 1) {
                    journal.dropLast(lines.get(i)); // cut short by a kill while it was written: measured again
                    break;
                }
                throw new IllegalStateException(file + " line " + (i + 1) + ": " + e.getOriginalMessage(), e);
            }
            if (!line.commit().equals(commit)) {
                throw new IllegalStateException(file + " line " + (i + 1) + " was measured at " + line.commit()
                        + ", this code is " + commit + ": continue the journal at its commit, or start a new one");
            }
            journal.done.put(key(line.method(), line.edit().record()), line.edit());
        }
        journal.endLastLine();
        return journal;
    }

    /** Ends the file's last line when a kill came between its text and its line break. */
    private void endLastLine() {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
            if (out.size() > 0 && out.read(last, out.size() - 1) == 1 && last.get(0) != '\n') {
                out.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), out.size());
                out.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Cuts {@code fragment}, the unfinished last line, off the file, so that the next line starts a line. */
    private void dropLast(String fragment) {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
            out.truncate(out.size() - fragment.getBytes(StandardCharsets.UTF_8).length);
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The single edit of the record labelled {@code record} by {@code method} measured earlier, or null. */
    EditBenchmark.SingleEdit get(String method, String record) {
        return done.get(key(method, record));
    }

    /** Records {@code edit} and forces it to disk before returning. */
    void append(String method, EditBenchmark.SingleEdit edit) {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE)) {
            byte[] line = (JSON.writeValueAsString(new Line(commit, method, edit)) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            out.write(java.nio.ByteBuffer.wrap(line));
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        done.put(key(method, edit.record()), edit);
    }

    private static String key(String method, String record) {
        return method + "/" + record;
    }
}
