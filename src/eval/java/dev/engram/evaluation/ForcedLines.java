package dev.engram.evaluation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A journal file of a long run: one JSON line per finished step, appended and forced to disk before the step counts as
 * done, each naming the commit that measured it. Reading it back drops a last line cut short by a kill (cutting it off
 * the file, so that the next line starts a line) and refuses a line of another commit, so that a journal holds one run
 * of one code.
 */
final class ForcedLines {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ForcedLines() {
    }

    /**
     * The lines of {@code file} (none when there is no file), each read as {@code type}.
     *
     * @throws IllegalStateException when a line other than the last does not parse, or {@code commitOf} gives another
     *                               commit than {@code commit}
     */
    static <T> List<T> read(Path file, Class<T> type, Function<T, String> commitOf, String commit) {
        List<T> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
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
            T line;
            try {
                line = JSON.readValue(lines.get(i), type);
            } catch (JsonProcessingException e) {
                if (i == lines.size() - 1) {
                    dropLast(file, lines.get(i)); // cut short by a kill while it was written: measured again
                    break;
                }
                throw new IllegalStateException(file + " line " + (i + 1) + ": " + e.getOriginalMessage(), e);
            }
            if (!commitOf.apply(line).equals(commit)) {
                throw new IllegalStateException(file + " line " + (i + 1) + " was measured at " + commitOf.apply(line)
                        + ", this code is " + commit + ": continue the journal at its commit, or start a new one");
            }
            out.add(line);
        }
        endLastLine(file);
        return out;
    }

    /** Appends {@code line} as one JSON line and forces it to disk before returning. */
    static void append(Path file, Object line) {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap((JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8)));
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends the file's last line when a kill came between its text and its line break. */
    private static void endLastLine(Path file) {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            if (out.size() > 0 && out.read(last, out.size() - 1) == 1 && last.get(0) != '\n') {
                out.write(ByteBuffer.wrap(new byte[] {'\n'}), out.size());
                out.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Cuts {@code fragment}, the unfinished last line, off the file. */
    private static void dropLast(Path file, String fragment) {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
            out.truncate(out.size() - fragment.getBytes(StandardCharsets.UTF_8).length);
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
