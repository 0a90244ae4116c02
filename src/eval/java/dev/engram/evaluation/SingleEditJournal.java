package dev.engram.evaluation;

import java.nio.file.Path;
import java.util.LinkedHashMap;
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
        for (Line line : ForcedLines.read(file, Line.class, Line::commit, commit)) {
            journal.done.put(key(line.method(), line.edit().record()), line.edit());
        }
        return journal;
    }

    /** The single edit of the record labelled {@code record} by {@code method} measured earlier, or null. */
    EditBenchmark.SingleEdit get(String method, String record) {
        return done.get(key(method, record));
    }

    /** Records {@code edit} and forces it to disk before returning. */
    void append(String method, EditBenchmark.SingleEdit edit) {
        ForcedLines.append(file, new Line(commit, method, edit));
        done.put(key(method, edit.record()), edit);
    }

    private static String key(String method, String record) {
        return method + "/" + record;
    }
}
