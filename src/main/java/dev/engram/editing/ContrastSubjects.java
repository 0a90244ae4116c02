package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/**
 * Other subjects for a learned edit to leave alone: the entries of a fixed pool of named entities
 * ({@code contrast-subjects.txt}, written independently of every evaluation record) that the model represents most
 * like the edited subject ({@link SubjectPool#nearest}).
 */
public final class ContrastSubjects {
    private static final SubjectPool POOL = SubjectPool.read(ContrastSubjects.class, "contrast-subjects.txt");

    private ContrastSubjects() {
    }

    /** The pool, in file order. */
    public static List<String> pool() {
        return POOL.subjects();
    }

    /** The {@code count} pool subjects nearest to {@code subject}, nearest first, leaving out the subject itself. */
    public static List<String> nearest(Model model, String subject, int count) {
        return POOL.nearest(model, subject, count);
    }
}
