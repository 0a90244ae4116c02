package dev.engram.runtime.load;

import ai.djl.ndarray.NDManager;
import dev.engram.bench.ProcessMemory;
import dev.engram.bench.ShapeBenchmark;
import dev.engram.runtime.Model;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads one checkpoint in a fresh JVM and prints what loading cost in resident memory: {@code <baseline KiB> <peak
 * KiB> <after KiB> <weight bytes> <seconds>}, the baseline taken once libtorch is up. Run by {@link LoaderMemoryTest}
 * and by hand: {@code java -cp <test class path> dev.engram.runtime.load.LoadMemoryProbe <dir> <STORED|F32>}.
 */
public final class LoadMemoryProbe {
    private LoadMemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        try (NDManager root = NDManager.newBaseManager()) {
            root.zeros(new ai.djl.ndarray.types.Shape(1)).close(); // libtorch loaded and initialised
            System.gc();
            ProcessMemory.resetPeak();
            long baseline = ProcessMemory.kib("VmRSS");
            long start = System.nanoTime();
            try (Model model = ModelLoader.load("probe", Path.of(args[0]), root, WeightStorage.valueOf(args[1]))) {
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "%d %d %d %d %.2f%n", baseline, ProcessMemory.kib("VmHWM"),
                        ProcessMemory.kib("VmRSS"), ShapeBenchmark.weightBytes(model.weights().base(), model.config().tiedEmbeddings()),
                        seconds);
            }
        }
    }
}
