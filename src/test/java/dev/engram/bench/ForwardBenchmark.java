package dev.engram.bench;

import dev.engram.runtime.Model;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import dev.engram.runtime.load.ModelLoader;
import java.nio.file.Path;
import java.util.Random;

/**
 * Warm forward-pass time per prompt at sequence length 16: logits only, and with the full trace recorded.
 * Run: see BENCHMARKS.md.
 */
public final class ForwardBenchmark {
    private static final int SEQ = 16;

    public static void main(String[] args) {
        int runs = Integer.parseInt(System.getProperty("bench.runs", "50"));
        try (Model stories = TestModels.stories260K()) {
            report(stories, runs);
        }
        Path smol = Path.of(System.getProperty("smollm2.path",
                "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
        // load: read the GGUF, dequantize Q4_1/Q8_0 to F32, build the tokenizer (page cache warm after the first)
        Timing.Summary load = Timing.measure(1, 5, () -> {
            try (Model m = ModelLoader.load("smollm2", smol, TestModels.root())) {
                m.config();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        System.out.printf("%-20s load: %s%n", "smollm2", load);
        try (Model smollm2 = ModelLoader.load("smollm2", smol, TestModels.root())) {
            report(smollm2, runs);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        // GPT-2 small: d 768, 12 layers, 12 heads, d_ffn 3072, vocab 50,257, context 1,024 (random weights)
        var gpt2Small = new dev.engram.runtime.ModelConfig(dev.engram.runtime.family.Gpt2Family.FAMILY, 768, 12, 12, 12, 64,
                3072, 50257, 1024, 1e-5, 0, dev.engram.runtime.RopeLayout.HALF, true);
        try (Model gpt2 = SyntheticModels.random("gpt2-small-shaped", gpt2Small, false, 1, TestModels.root())) {
            report(gpt2, runs);
        }
    }

    static void report(Model model, int runs) {
        int[] tokens = new Random(42).ints(SEQ, 3, model.config().vocabSize()).toArray();
        Runnable logitsOnly = () -> ForwardPass.of(model).lastLogits(tokens);
        Runnable fullTrace = () -> {
            try (Trace t = ForwardPass.of(model).trace(tokens)) {
                t.logits();
            }
        };
        Timing.measure(40, 0, logitsOnly); // warm both paths before timing either
        Timing.measure(40, 0, fullTrace);
        Timing.Summary logits = Timing.measure(0, runs, logitsOnly);
        Timing.Summary trace = Timing.measure(0, runs, fullTrace);
        System.out.printf("%-20s seq %d  logits-only: %s%n", model.name(), SEQ, logits);
        System.out.printf("%-20s seq %d  full trace:  %s%n", model.name(), SEQ, trace);
    }
}
