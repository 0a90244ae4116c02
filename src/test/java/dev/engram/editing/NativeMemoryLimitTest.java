package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The server's shape, in a JVM of its own: a small heap (the Dockerfile's is 512 MiB) and a resident size far past twice
 * it (there, the weights libtorch holds). JavaCPP would refuse every LAPACK call ("Physical memory usage is too high")
 * unless its limits are lifted; here they must be.
 */
class NativeMemoryLimitTest {
    @Test
    void lapackRunsInAProcessWhoseResidentMemoryIsManyTimesItsHeap() throws Exception {
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:MaxDirectMemorySize=512m", "-cp", System.getProperty("java.class.path"),
                Probe.class.getName())).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, output);
        assertTrue(output.contains("inverse of 2I: 1/2"), output);
    }

    /** Touches 256 MiB outside the heap, then inverts 2·I through LAPACK. */
    public static final class Probe {
        public static void main(String[] args) {
            ByteBuffer outside = ByteBuffer.allocateDirect(256 << 20);
            for (int i = 0; i < outside.capacity(); i += 4096) {
                outside.put(i, (byte) 1);
            }
            double[][] inverse = KeyValueAlgebra.inverse(new double[][] {{2, 0}, {0, 2}}, 0);
            System.out.println("resident page touched: " + outside.get(4096) + "; inverse of 2I: "
                    + (Math.abs(inverse[0][0] - 0.5) < 1e-12 && inverse[0][1] == 0 ? "1/2" : inverse[0][0]));
        }
    }
}
