package dev.engram.bench;

import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.ModelLoader;
import dev.engram.support.TestModels;
import java.nio.file.Path;

/**
 * Peak resident memory that one LocateFact adds on SmolLM2, against the model's F32 size. The kernel's high-water
 * mark (VmHWM) is reset through /proc/self/clear_refs just before the request. Run: see BENCHMARKS.md.
 */
public final class LocateMemoryBenchmark {
    public static void main(String[] args) throws Exception {
        Path smol = Path.of(System.getProperty("smollm2.path",
                "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
        try (Model model = ModelLoader.load("smollm2", smol, TestModels.root())) {
            long parameters = model.weights().base().tokenEmbedding().size();
            for (var l : model.weights().base().layers()) {
                parameters += l.wQ().size() + l.wK().size() + l.wV().size() + l.wO().size() + l.wGate().size()
                        + l.wUp().size() + l.wDown().size() + 2L * l.attnNormWeight().size();
            }
            double f32Mib = parameters * 4 / 1048576.0;
            int[] shortPrompt = model.tokenizer().encodePrompt("The capital of France is");
            // a long prompt: -Dbench.tokens (the default bound engram.attribution-max-tokens is 2,048)
            int[] longPrompt = java.util.Arrays.copyOf(model.tokenizer().encodePrompt(
                    "The capital of France is Paris, and the capital of Japan is Tokyo. ".repeat(200)),
                    Integer.getInteger("bench.tokens", 256));
            Attributor attributor = new Attributor(model);
            for (int[] prompt : new int[][] {shortPrompt, longPrompt}) {
                for (String phase : new String[] {"first", "second"}) {
                    System.gc();
                    long before = ProcessMemory.kib("VmRSS");
                    ProcessMemory.resetPeak();
                    attributor.attribute(prompt, null, AttributionOptions.defaults(10));
                    long peak = ProcessMemory.kib("VmHWM");
                    System.out.printf("smollm2, %d-token prompt, %s LocateFact: F32 model %.0f MiB; process RSS before"
                            + " %.0f MiB, peak %.0f MiB, added %.0f MiB = %.2f x the F32 model%n", prompt.length, phase,
                            f32Mib, before / 1024.0, peak / 1024.0, (peak - before) / 1024.0,
                            (peak - before) / 1024.0 / f32Mib);
                }
            }
        }
    }
}
