package dev.engram.bench;

import static dev.engram.runtime.load.LlamaTensorNames.at;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.RopeLayout;
import dev.engram.runtime.family.LlamaFamily;
import dev.engram.runtime.load.AtomicFiles;
import dev.engram.runtime.load.Dtype;
import dev.engram.runtime.load.HfCheckpoint;
import dev.engram.runtime.load.HfConfig;
import dev.engram.runtime.load.LlamaTensorNames;
import dev.engram.runtime.load.SafetensorsCheckpoint;
import dev.engram.runtime.load.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Seeded synthetic Llama-family checkpoints of real models' exact shapes, written as HF safetensors directories at
 * benchmark time (never committed: the 1B shape is 2.5 GB in F16). Every matrix is Gaussian with standard deviation
 * 0.02 (as the models are initialised), norms are 1, biases 0.01-scaled; each tensor is generated from the seed and its
 * name, one at a time, so writing holds one tensor in memory. The weights carry no knowledge: these files measure time
 * and memory, never quality.
 * <p>
 * {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.engram.bench.ShapedCheckpoint
 * -Dexec.args="llama-3.2-1b F16 /tmp/shapes/llama-3.2-1b"}
 */
public final class ShapedCheckpoint {
    private static final LlamaTensorNames N = LlamaTensorNames.HF;

    /** A model's shape as its config.json gives it; rotary scaling (Llama 3.x) is not modelled: it changes no cost. */
    public enum Shape {
        /** Small enough for CI: about 72M parameters. */
        SMALL("small", 1024, 4, 16, 4, 64, 4096, 8000, 1e-5, 1e4, true, false),
        LLAMA_3_2_1B("llama-3.2-1b", 2048, 16, 32, 8, 64, 8192, 128256, 1e-5, 5e5, true, false),
        QWEN2_5_1_5B("qwen2.5-1.5b", 1536, 28, 12, 2, 128, 8960, 151936, 1e-6, 1e6, true, true),
        LLAMA_3_2_3B("llama-3.2-3b", 3072, 28, 24, 8, 128, 8192, 128256, 1e-5, 5e5, true, false),
        LLAMA_3_8B("llama-3-8b", 4096, 32, 32, 8, 128, 14336, 128256, 1e-5, 5e5, false, false);

        final String label;
        final ModelConfig config;
        final boolean qkvBias;

        Shape(String label, int d, int layers, int heads, int kvHeads, int headDim, int ffn, int vocab, double eps,
                double theta, boolean tied, boolean qkvBias) {
            this.label = label;
            this.config = new ModelConfig(LlamaFamily.FAMILY, d, layers, heads, kvHeads, headDim, ffn, vocab, 4096,
                    eps, theta, RopeLayout.HALF, tied);
            this.qkvBias = qkvBias;
        }

        public ModelConfig config() {
            return config;
        }

        /** The name on the command line. */
        public String label() {
            return label;
        }

        public static Shape of(String label) {
            return Arrays.stream(values()).filter(s -> s.label().equals(label)).findFirst().orElseThrow(
                    () -> new IllegalArgumentException("unknown shape " + label + "; known: "
                            + Arrays.stream(values()).map(Shape::label).toList()));
        }

        /** Parameters, tied embeddings counted once. */
        public long parameters() {
            ModelConfig c = config;
            long d = c.dModel();
            long perLayer = 2 * d + d * c.qDim() * 2 + 2 * d * c.kvDim() + 3 * d * c.dFfn()
                    + (qkvBias ? c.qDim() + 2L * c.kvDim() : 0);
            return (long) c.vocabSize() * d * (c.tiedEmbeddings() ? 1 : 2) + d + c.nLayers() * perLayer;
        }
    }

    private ShapedCheckpoint() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: <shape> <F32|F16|BF16> <directory>");
        }
        Shape shape = Shape.of(args[0]);
        long start = System.nanoTime();
        write(shape, Dtype.parse(args[1]), Path.of(args[2]), 1);
        System.out.printf(Locale.ROOT, "%s: %,d parameters, %s, written to %s in %.1f s%n", shape.label(),
                shape.parameters(), args[1], args[2], (System.nanoTime() - start) / 1e9);
    }

    /** Writes {@code shape} with weights from {@code seed} as an HF directory (config.json, model.safetensors). */
    public static void write(Shape shape, Dtype dtype, Path dir, long seed) throws IOException {
        ModelConfig c = shape.config;
        long d = c.dModel();
        Files.createDirectories(dir);
        SafetensorsWriter out = new SafetensorsWriter();
        gaussian(out, N.embedding(), seed, 0.02, c.vocabSize(), d);
        for (int l = 0; l < c.nLayers(); l++) {
            ones(out, at(N.attnNorm(), l), d);
            gaussian(out, at(N.q(), l), seed, 0.02, c.qDim(), d);
            gaussian(out, at(N.k(), l), seed, 0.02, c.kvDim(), d);
            gaussian(out, at(N.v(), l), seed, 0.02, c.kvDim(), d);
            if (shape.qkvBias) {
                gaussian(out, at(N.qBias(), l), seed, 0.01, c.qDim());
                gaussian(out, at(N.kBias(), l), seed, 0.01, c.kvDim());
                gaussian(out, at(N.vBias(), l), seed, 0.01, c.kvDim());
            }
            gaussian(out, at(N.o(), l), seed, 0.02, d, c.qDim());
            ones(out, at(N.ffnNorm(), l), d);
            gaussian(out, at(N.gate(), l), seed, 0.02, c.dFfn(), d);
            gaussian(out, at(N.up(), l), seed, 0.02, c.dFfn(), d);
            gaussian(out, at(N.down(), l), seed, 0.02, d, c.dFfn());
        }
        ones(out, N.finalNorm(), d);
        if (!c.tiedEmbeddings()) {
            gaussian(out, N.output(), seed, 0.02, c.vocabSize(), d);
        }
        out.write(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE), dtype);
        AtomicFiles.writeString(dir.resolve(HfCheckpoint.CONFIG_FILE), new ObjectMapper()
                .writerWithDefaultPrettyPrinter().writeValueAsString(HfConfig.write(c, shape.qkvBias)));
    }

    private static void gaussian(SafetensorsWriter out, String name, long seed, double std, long... shape) {
        out.put(name, shape, () -> {
            SplittableRandom random = new SplittableRandom(seed * 31 + name.hashCode());
            float[] values = new float[Math.toIntExact(Dtype.elementCount(shape))];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (gaussian(random) * std);
            }
            return values;
        });
    }

    private static void ones(SafetensorsWriter out, String name, long d) {
        out.put(name, new long[] {d}, () -> {
            float[] values = new float[(int) d];
            Arrays.fill(values, 1f);
            return values;
        });
    }

    /** A standard normal value (Box–Muller's cosine branch). */
    private static double gaussian(SplittableRandom random) {
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
