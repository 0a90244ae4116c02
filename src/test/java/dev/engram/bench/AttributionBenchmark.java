package dev.engram.bench;

import dev.engram.runtime.family.Gpt2Family;
import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.attribution.StepAttribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.RopeLayout;
import dev.engram.runtime.load.ModelLoader;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.nio.file.Path;
import java.util.Random;

/**
 * Value-neuron location: brute force (every neuron through norm, W_U and log-softmax) against the bounded fast
 * path, and both against one traced forward pass. Run: see BENCHMARKS.md.
 */
public final class AttributionBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(System.getProperty("bench.runs", "20"));
        try (Model stories = TestModels.stories260K()) {
            report(stories, stories.tokenizer().encodePrompt("Once upon a time, there was a little girl named Lily. She"),
                    runs);
        }
        Path smol = Path.of(System.getProperty("smollm2.path",
                "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
        try (Model smollm2 = ModelLoader.load("smollm2", smol, TestModels.root())) {
            report(smollm2, smollm2.tokenizer().encodePrompt("The capital of France is"), runs);
        }
        ModelConfig gpt2Small = new ModelConfig(Gpt2Family.FAMILY, 768, 12, 12, 12, 64, 3072, 50257, 1024, 1e-5, 0,
                RopeLayout.HALF, true);
        try (Model gpt2 = SyntheticModels.random("gpt2-small-shaped", gpt2Small, false, 1, TestModels.root())) {
            report(gpt2, new Random(42).ints(16, 0, 50257).toArray(), runs);
        }
    }

    static void report(Model model, int[] prompt, int runs) {
        Attributor attributor = new Attributor(model);
        // -Dbench.mode=EXACT: the same with the real final norm
        dev.engram.attribution.NormMode mode = dev.engram.attribution.NormMode.valueOf(
                System.getProperty("bench.mode", "FROZEN"));
        AttributionOptions valueOnly = AttributionOptions.valueNeuronsOnly(10, mode);
        AttributionOptions full = AttributionOptions.defaults(10).withMode(mode);
        Runnable forward = () -> {
            try (Trace t = ForwardPass.of(model).trace(prompt)) {
                t.logits();
            }
        };
        Timing.measure(5, 0, forward);
        Timing.measure(3, 0, () -> attributor.attribute(prompt, null, valueOnly));
        Timing.Summary fwd = Timing.measure(0, runs, forward);
        Timing.Summary fast = Timing.measure(0, runs, () -> attributor.attribute(prompt, null, valueOnly));
        Timing.Summary locate = Timing.measure(0, runs, () -> attributor.attribute(prompt, null, full));
        long start = System.nanoTime(); // the brute force is timed once: it is the slow side of the comparison
        StepAttribution bruteStep = attributor.attribute(prompt, null, valueOnly.withExhaustive(true)).steps().get(0);
        double bruteMs = (System.nanoTime() - start) / 1e6;
        StepAttribution step = attributor.attribute(prompt, null, valueOnly).steps().get(0);
        boolean same = step.valueNeurons().stream().map(n -> n.id()).toList()
                .equals(bruteStep.valueNeurons().stream().map(n -> n.id()).toList());
        System.out.printf("%s, %s: %d tokens, %d value neurons, exact evaluations on the fast path %d (%.2f%%)%n",
                model.name(), mode, prompt.length, step.neurons(), step.evaluated(), 100.0 * step.evaluated() / step.neurons());
        System.out.printf("  forward (trace)       %s%n", fwd);
        System.out.printf("  fast top-10 value neurons (+ layer scores)  %s%n", fast);
        System.out.printf("  LocateFact defaults (top-10 value, top-10 query, head scores) %s%n", locate);
        System.out.printf("  brute force           %.0f ms (1 run)%n", bruteMs);
        System.out.printf("  brute/fast %.1fx, fast/forward %.2fx, locate/forward %.2fx, same top-10 as brute force: %s%n",
                bruteMs / fast.medianMs(), fast.medianMs() / fwd.medianMs(),
                locate.medianMs() / fwd.medianMs(), same);
    }
}
