package dev.engram.runtime.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.bench.ShapedCheckpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small-shape version of the memory-mapped loader's check (issue 30): a 72M-parameter F16 checkpoint loads in a
 * fresh JVM with its matrices in F16, and the process's resident memory peaks at most 1.3× the weights it ends up
 * holding above where it stood before the load.
 */
class LoaderMemoryTest {
    @TempDir
    static Path dir;

    @Test
    void anF16CheckpointLoadsWithinOnePointThreeTimesItsOwnSize() throws Exception {
        Path checkpoint = dir.resolve("small-f16");
        ShapedCheckpoint.write(ShapedCheckpoint.Shape.SMALL, Dtype.F16, checkpoint, 7);
        long[] probe = probe(checkpoint, WeightStorage.STORED);
        long weights = probe[3];
        assertEquals(2 * ShapedCheckpoint.Shape.SMALL.parameters(), weights, 0.001 * weights,
                "the matrices are held in F16 (2 bytes a parameter)");
        long peak = (probe[1] - probe[0]) * 1024;
        long after = (probe[2] - probe[0]) * 1024;
        assertTrue(peak <= 1.3 * weights, "peak " + peak / 1e6 + " MB above the baseline for " + weights / 1e6
                + " MB of weights");
        assertTrue(after >= 0.9 * weights, "resident after the load: " + after / 1e6 + " MB");
    }

    /** The probe's numbers: baseline KiB, peak KiB, after KiB, weight bytes. */
    private static long[] probe(Path checkpoint, WeightStorage storage) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), LoadMemoryProbe.class.getName(),
                checkpoint.toString(), storage.name())).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, output);
        String[] last = output.strip().lines().reduce((a, b) -> b).orElseThrow().split(" ");
        return new long[] {Long.parseLong(last[0]), Long.parseLong(last[1]), Long.parseLong(last[2]),
            Long.parseLong(last[3])};
    }
}
