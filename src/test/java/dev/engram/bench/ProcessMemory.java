package dev.engram.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's resident memory from /proc/<pid>/status, and a reset of its high-water mark (Linux). */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** A field of /proc/self/status in KiB (VmRSS: now; VmHWM: peak since the last reset). */
    public static long kib(String field) {
        return kib("self", field);
    }

    /** The same for another process (its pid), or "self". */
    public static long kib(String pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException(field + " not in /proc/" + pid + "/status");
    }

    /** Sets VmHWM to the current RSS, so that the next peak reading covers only what follows. */
    public static void resetPeak() {
        resetPeak("self");
    }

    /** The same for another process (its pid), or "self". */
    public static void resetPeak(String pid) {
        try {
            Files.writeString(Path.of("/proc", pid, "clear_refs"), "5");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
