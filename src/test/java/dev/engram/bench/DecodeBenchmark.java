package dev.engram.bench;

import dev.engram.inference.GreedyGenerator;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;

/**
 * Greedy decoding with the KV cache on SmolLM2: time per generated token (the cost of the fluency check).
 * mvn -B -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.engram.bench.DecodeBenchmark
 */
public final class DecodeBenchmark {
    public static void main(String[] args) {
        Model model = TestModels.smolLM2();
        int[] prompt = model.tokenizer().encodePrompt("The capital of France is");
        int tokens = Integer.getInteger("bench.tokens", 32);
        Timing.Summary s = Timing.measure(3, Integer.getInteger("bench.runs", 10),
                () -> new GreedyGenerator(model).generate(prompt, tokens));
        System.out.printf("smollm2: %d greedy tokens after a %d-token prompt, KV cache: %s = %.1f ms per token%n",
                tokens, prompt.length, s, s.medianMs() / tokens);
    }
}
