package dev.engram.store;

import java.nio.file.Path;
import java.util.Locale;
import java.util.function.BiConsumer;

/**
 * The points of a commit where a crash leaves a different state on disk, announced to an optional observer: a class
 * on the JVM's system class path named by {@code -Ddev.engram.store.commit-observer=<class>}, implementing
 * {@code BiConsumer<String, Path>} (the stage's label: before-delta, after-delta, before-ledger, after-ledger; and the
 * store's root). The crash test's observer stops the process at one stage so that it can be killed there. Without the
 * property nothing is announced.
 */
enum CommitStage {
    /** Nothing written yet. */
    BEFORE_DELTA,
    /** The delta and its files staged and fsynced in an {@code .incoming-*} directory, not yet published. */
    AFTER_DELTA,
    /** The checkpoint directory published under its id; no ledger row yet. */
    BEFORE_LEDGER,
    /** The ledger row written and the head moved, in one committed transaction. */
    AFTER_LEDGER;

    static final String OBSERVER_PROPERTY = "dev.engram.store.commit-observer";
    private static final BiConsumer<String, Path> OBSERVER = observer(System.getProperty(OBSERVER_PROPERTY));

    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    void reached(Path root) {
        if (OBSERVER != null) {
            OBSERVER.accept(label(), root);
        }
    }

    /** The observer class {@code name} names, from the system class path; null for none. */
    @SuppressWarnings("unchecked")
    private static BiConsumer<String, Path> observer(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        try {
            return (BiConsumer<String, Path>) Class.forName(name, true, ClassLoader.getSystemClassLoader())
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException(OBSERVER_PROPERTY + ": cannot use " + name + " (" + e + ")", e);
        }
    }
}
