package dev.engram.trace;

import java.util.ArrayList;
import java.util.List;

/**
 * Every token sequence any forward pass runs on, while a {@link Recording} is open: how a test proves that an edit
 * method never runs the model on a prompt it is verified on (what a method cannot run, it cannot train on). Off, it
 * costs one volatile read per pass. One recording at a time in the whole JVM.
 */
public final class SequenceWitness {
    private static volatile Recording open;

    private SequenceWitness() {
    }

    /** Starts recording every sequence run from now until the recording is closed. */
    public static synchronized Recording record() {
        if (open != null) {
            throw new IllegalStateException("a recording is already open");
        }
        open = new Recording();
        return open;
    }

    /** Whether a recording is open (one volatile read: passes skip building the list when not). */
    static boolean recording() {
        return open != null;
    }

    static void saw(List<int[]> sequences) {
        Recording r = open;
        if (r != null) {
            r.add(sequences);
        }
    }

    /** The sequences seen while open. */
    public static final class Recording implements AutoCloseable {
        private final List<int[]> seen = new ArrayList<>();

        private synchronized void add(List<int[]> sequences) {
            sequences.forEach(s -> seen.add(s.clone()));
        }

        /** Copies of every sequence run so far, in order. */
        public synchronized List<int[]> sequences() {
            return List.copyOf(seen);
        }

        @Override
        public void close() {
            synchronized (SequenceWitness.class) {
                open = null;
            }
        }
    }
}
