package dev.engram.bench;

import ai.djl.ndarray.NDArray;
import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.editing.SubjectSpan;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Param;
import dev.engram.runtime.load.Dtype;
import dev.engram.runtime.load.HfCheckpoint;
import dev.engram.runtime.load.ModelLoader;
import dev.engram.runtime.load.WeightStorage;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Time and resident memory of one model, stage by stage, on a checkpoint written by {@link ShapedCheckpoint}: load
 * (seconds, peak RSS above the process's baseline, the weights' bytes), a forward pass at 16 tokens, LocateFact at its
 * defaults (top-10, {@link AttributionOptions#defaults}), two edits of each named method (its delta only: the gate is
 * not run; the first includes what the method computes once per model and caches: the sampled corpus and its key
 * statistics) and the export of the last edited model. Each stage's peak is read from VmHWM after a reset.
 * <p>
 * {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.engram.bench.ShapeBenchmark
 * -Dexec.args="/tmp/shapes/llama-3.2-1b STORED subject_neuron,learned,closed_form"} (methods as EditMethods names them;
 * {@code none} for none; a fourth argument {@code noexport} leaves the export out; {@code -Dshape.statistics=DIR} keeps
 * the key statistics in DIR as the server keeps them in its store, so that a later run reads them).
 */
public final class ShapeBenchmark {
    private static final int SEQ = 16;

    private ShapeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        WeightStorage storage = WeightStorage.valueOf(args[1]);
        List<EditMethod<?>> methods = args.length < 3 || args[2].equals("none") ? List.of()
                : Arrays.stream(args[2].split(",")).<EditMethod<?>>map(EditMethods::named).toList();
        if (System.getProperty("shape.statistics") != null) { // key statistics kept there, as the server's store does
            dev.engram.editing.KeyStatistics.useDirectory(Path.of(System.getProperty("shape.statistics")));
        }
        TestModels.root().zeros(new ai.djl.ndarray.types.Shape(1)).close(); // libtorch up before the baseline
        System.gc();
        long baseline = ProcessMemory.kib("VmRSS");
        ProcessMemory.resetPeak();
        long start = System.nanoTime();
        try (Model model = ModelLoader.load(dir.getFileName().toString(), dir, TestModels.root(), storage)) {
            double loadSeconds = (System.nanoTime() - start) / 1e9;
            long weights = weightBytes(model.weights().base(), model.config().tiedEmbeddings());
            row("load", loadSeconds * 1000, baseline, weights);
            System.out.printf(Locale.ROOT, "weights: %.2f GB in memory (%s); baseline RSS %.2f GB%n", weights / 1e9,
                    storage, baseline / 1048576.0);
            int[] tokens = new Random(42).ints(SEQ, 3, model.config().vocabSize()).toArray();
            stage("forward, 16 tokens", baseline, weights, 1, 3, () -> ForwardPass.of(model).lastLogits(tokens));
            stage("LocateFact defaults", baseline, weights, 1, 3, () -> new Attributor(model)
                    .attribute(tokens, null, AttributionOptions.defaults(10)));
            int trueToken = new NextTokenDistribution(ForwardPass.of(model).lastLogits(tokens)).argmax();
            int newToken = (trueToken + 1) % model.config().vocabSize();
            EditCase edit = new EditCase(tokens, new int[] {newToken}, new int[] {trueToken}, List.of(), List.of(),
                    List.of(), List.of(), new SubjectSpan(4, 6), List.of());
            EditResult last = null;
            for (EditMethod<?> method : methods) {
                EditOptions options = EditOptions.defaults(method, model.config().nLayers());
                EditResult[] result = new EditResult[1];
                // the first edit of a model computes what its method keeps per model (corpus, key statistics)
                stage("edit " + method.name() + ", first", baseline, weights, 0, 1,
                        () -> result[0] = new Editor(model).edit(edit, options));
                stage("edit " + method.name(), baseline, weights, 0, 1,
                        () -> result[0] = new Editor(model).edit(edit, options));
                last = result[0];
            }
            if (args.length > 3 && args[3].equals("noexport")) {
                return;
            }
            Model exported = last == null ? model : model.edited(last.delta());
            Path out = Files.createTempDirectory("shape-export");
            stage("export (F16)", baseline, weights, 0, 1, () -> {
                try {
                    HfCheckpoint.save(exported, out, Dtype.F16, 1);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (var files = Files.list(out)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(out);
        }
    }

    private static void stage(String name, long baseline, long weights, int warmups, int runs, Runnable task) {
        Timing.measure(warmups, 0, task);
        ProcessMemory.resetPeak(); // the peak of the timed runs only
        row(name, Timing.measure(0, runs, task).medianMs(), baseline, weights);
    }

    private static void row(String stage, double ms, long baselineKib, long weights) {
        long peak = ProcessMemory.kib("VmHWM");
        System.out.printf(Locale.ROOT, "| %s | %,.0f ms | %.2f GB | %.2f× |%n", stage, ms, peak / 1048576.0,
                (peak - baselineKib) * 1024.0 / weights);
    }

    /** The bytes of every array the weights hold (a tied unembedding is a view of the embedding: counted once). */
    public static long weightBytes(ModelWeights w, boolean tied) {
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
