package dev.engram.bench;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.ModelLoader;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Prints the top-3 next tokens for each prompt given as an argument. Model path: -Dprobe.model (default: SmolLM2).
 * mvn -q test-compile exec:java -Dexec.mainClass=dev.engram.bench.FactProbe -Dexec.args="'The capital of France is'"
 */
public final class FactProbe {
    public static void main(String[] prompts) throws Exception {
        Path path = Path.of(System.getProperty("probe.model", "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
        long start = System.nanoTime();
        try (Model model = ModelLoader.load("probe", path, TestModels.root())) {
            System.out.printf("loaded %s in %.1f s: %s%n", path.getFileName(), (System.nanoTime() - start) / 1e9, model.config());
            for (String prompt : prompts) {
                int[] ids = model.tokenizer().encodePrompt(prompt);
                NextTokenDistribution next = new NextTokenDistribution(ForwardPass.of(model).lastLogits(ids));
                StringBuilder line = new StringBuilder(String.format("%-45s %s ->", "\"" + prompt + "\"", Arrays.toString(ids)));
                for (TokenProbability t : next.topK(3, model.tokenizer()::tokenString)) {
                    line.append(String.format("  %s %.4f", "\"" + t.text() + "\"", t.probability()));
                }
                System.out.println(line);
            }
        }
    }
}
