package dev.engram.runtime;

import com.sun.jna.Platform;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads that yield the CPU to everything else: on Linux each is given a higher nice value with setpriority(2), so the
 * kernel's scheduler runs other threads first when both are ready (at nice 19 a thread gets about 1.5% of a core
 * that a nice-0 thread also wants). Java's own thread priorities do nothing on Linux. An unprivileged process may raise
 * its threads' nice values but never lower them again, which is why these threads are made for the purpose and kept
 * apart. Elsewhere, or where the call fails, threads run at normal priority.
 */
public final class ThreadPriority {
    /**
     * The nice value of heavy work (attribution, edits, comparisons): against a nice-0 quick call on the same core it
     * gets a CFS weight of 15 to 1024. Nice 10 (weight 110) left a lone Predict's p99 at 1.25 s under 32 clients,
     * nice 19 at 0.9 s (BENCHMARKS.md, "Load").
     */
    public static final int HEAVY_NICE = 19;
    private static final int PRIO_PROCESS = 0;

    private static final Libc.C LIBC = Libc.LIBC;

    private ThreadPriority() {
    }

    /** Daemon threads named {@code name-N} that set their own nice value to {@code nice} when they start. */
    public static ThreadFactory factory(String name, int nice) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread t = new Thread(() -> {
                lowerCurrentThread(nice);
                task.run();
            }, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Gives the calling thread nice value {@code nice}; false where the platform does not allow it. */
    public static boolean lowerCurrentThread(int nice) {
        if (LIBC == null) {
            return false;
        }
        try {
            int tid = LIBC.syscall(gettidNumber());
            return tid > 0 && LIBC.setpriority(PRIO_PROCESS, tid, nice) == 0;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** The calling thread's nice value, read from /proc/thread-self/stat (field 19); null where there is none. */
    public static Integer currentNice() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(fields[16]);
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** SYS_gettid: 186 on x86-64, 178 on arm64. */
    private static long gettidNumber() {
        return Platform.isARM() ? 178 : 186;
    }
}
