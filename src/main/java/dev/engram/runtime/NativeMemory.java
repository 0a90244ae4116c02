package dev.engram.runtime;

/**
 * Hands freed native memory back to the operating system. libtorch frees a call's tensors into glibc's heaps, which
 * keep the pages: after a burst of large calls the process stays at its peak size. malloc_trim(3) returns the free
 * pages at the top of each heap and the whole free pages inside them; it takes milliseconds, so it runs after calls
 * that take seconds, never after quick ones.
 */
public final class NativeMemory {
    private NativeMemory() {
    }

    /** Returns free native memory to the system; false where there is no glibc. */
    public static boolean trim() {
        if (Libc.LIBC == null) {
            return false;
        }
        try {
            return Libc.LIBC.malloc_trim(0) == 1;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }
}
