package dev.engram.bench;

import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.attribution.NormMode;
import dev.engram.evaluation.EvaluationModels;
import dev.engram.runtime.Model;

/**
 * The workload of a LocateFact profile: one model, one prompt, the same attribution repeated, for a sampling profiler
 * attached from outside (Java Flight Recorder; see BENCHMARKS.md, "Where LocateFact's time goes"). Arguments: model
 * (smollm2), runs (100), and "value" to ask for the top-10 value neurons only instead of LocateFact's defaults.
 */
public final class LocateProfile {
    public static void main(String[] args) throws Exception {
        Model model = EvaluationModels.load(args.length > 0 ? args[0] : "smollm2");
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        AttributionOptions options = args.length > 2 && "value".equals(args[2])
                ? AttributionOptions.valueNeuronsOnly(10, NormMode.FROZEN) : AttributionOptions.defaults(10);
        int[] prompt = model.tokenizer().encodePrompt("The capital of France is");
        Attributor attributor = new Attributor(model);
        for (int i = 0; i < 5; i++) {
            attributor.attribute(prompt, null, options);
        }
        long start = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            attributor.attribute(prompt, null, options);
        }
        System.out.printf("%d runs, %.1f ms each%n", runs, (System.nanoTime() - start) / 1e6 / runs);
    }
}
