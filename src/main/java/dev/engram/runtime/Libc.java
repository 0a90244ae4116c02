package dev.engram.runtime;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/** The few C library calls the JVM has no API for (Linux only; {@link #LIBC} is null elsewhere). */
final class Libc {
    interface C extends Library {
        int syscall(long number, Object... args);

        int setpriority(int which, int who, int prio);

        int malloc_trim(long pad);
    }

    static final C LIBC = load();

    private Libc() {
    }

    private static C load() {
        if (!Platform.isLinux()) {
            return null;
        }
        try {
            return Native.load("c", C.class);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
    }
}
