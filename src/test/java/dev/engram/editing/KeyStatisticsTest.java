package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * C = (1/N) Σ_t k_t k_tᵀ (ROME's key second moment) as {@link KeyStatistics#measure} accumulates it, against the
 * literal sum over every token's FFN activation in doubles; and its cache file read back bit for bit.
 */
class KeyStatisticsTest {
    private static final Model MODEL = TestModels.sharedStories260K();

    @TempDir
    Path dir;

    @Test
    void theSecondMomentIsTheMeanOuterProductOfEveryTokensKey() {
        List<int[]> corpus = List.of(MODEL.tokenizer().encodePrompt("Once upon a time, there was a little girl"),
                MODEL.tokenizer().encodePrompt("Tom had a red ball. He liked to play"));
        List<Integer> layers = List.of(0, 3);
        Map<Integer, double[][]> measured = KeyStatistics.measure(MODEL, corpus, layers);
        int n = MODEL.config().dFfn();
        for (int l : layers) {
            double[][] literal = new double[n][n];
            int tokens = 0;
            for (int[] sequence : corpus) {
                try (Trace trace = ForwardPass.of(MODEL).trace(sequence); NDScope scope = new NDScope()) {
                    for (int t = 0; t < sequence.length; t++) {
                        float[] k = trace.ffnCoefficientsAt(l, t).toFloatArray();
                        for (int i = 0; i < n; i++) {
                            for (int j = 0; j < n; j++) {
                                literal[i][j] += (double) k[i] * k[j];
                            }
                        }
                        tokens++;
                    }
                }
            }
            double largest = 0;
            double worst = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    literal[i][j] /= tokens;
                    largest = Math.max(largest, Math.abs(literal[i][j]));
                    worst = Math.max(worst, Math.abs(literal[i][j] - measured.get(l)[i][j]));
                }
            }
            assertTrue(largest > 0, "layer " + l + " saw keys");
            assertTrue(worst <= 1e-5 * largest, "layer " + l + ": off by " + worst + " of " + largest);
        }
    }

    @Test
    void theCacheFileReadsBackBitForBitAndATruncatedOneIsMeasuredAgain() throws Exception {
        int n = 37;
        Random random = new Random(7);
        double[][] c = new double[n][n];
        for (double[] row : c) {
            for (int j = 0; j < n; j++) {
                row[j] = random.nextGaussian();
            }
        }
        Path file = dir.resolve("c.c64");
        KeyStatistics.write(file, c);
        double[][] read = KeyStatistics.read(file, n);
        for (int i = 0; i < n; i++) {
            assertArrayEquals(c[i], read[i], 0.0, "row " + i);
        }
        assertNull(KeyStatistics.read(file, n + 1), "another shape");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 8);
        }
        assertNull(KeyStatistics.read(file, n), "a truncated file");
        assertEquals(null, KeyStatistics.read(dir.resolve("absent"), n));
    }
}
