package dev.engram.runtime.load;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.engram.bench.ProcessMemory;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Param;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
                        ProcessMemory.kib("VmRSS"), bytes(model.weights().base(), model.config().tiedEmbeddings()),
                        seconds);
            }
        }
    }

    /** The bytes of every array the weights hold (a tied unembedding is a view of the embedding: counted once). */
    static long bytes(ModelWeights w, boolean tied) {
        List<NDArray> arrays = new ArrayList<>(List.of(w.tokenEmbedding(), w.finalNormWeight()));
        if (!tied) {
            arrays.add(w.unembedding());
        }
        for (LayerWeights layer : w.layers()) {
            arrays.add(layer.attnNormWeight());
            arrays.add(layer.ffnNormWeight());
            for (Param p : Param.values()) {
                arrays.add(layer.matrix(p));
            }
            for (NDArray bias : new NDArray[] {layer.bQ(), layer.bK(), layer.bV()}) {
                if (bias != null) {
                    arrays.add(bias);
                }
            }
        }
        return arrays.stream().mapToLong(a -> a.size() * a.getDataType().getNumOfBytes()).sum();
    }
}
