package dev.engram.bench;

import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.evaluation.EvaluationModels;
import dev.engram.runtime.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * LocateFacts throughput: the 22 SmolLM2 sentinel prompts (editing/sentinels), LocateFact defaults, attributed one at
 * a time and from packed forward passes of at most 256 tokens, as the service groups them. Prints prompts per second
 * for both, median of 3 rounds after a warm-up round. {@code mvn -B -q test-compile exec:java
 * -Dexec.classpathScope=test -Dexec.mainClass=dev.engram.bench.LocateFactsBenchmark}
 */
public final class LocateFactsBenchmark {
    public static void main(String[] args) throws Exception {
        Model model = EvaluationModels.load("smollm2");
        List<Attributor.Query> queries = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("editing/sentinels/smollm2.txt"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                queries.add(new Attributor.Query(model.tokenizer().encodePrompt(line), null,
                        AttributionOptions.defaults(10)));
            }
        }
        Attributor attributor = new Attributor(model);
        Runnable alone = () -> queries.forEach(q -> attributor.attribute(q.prompt(), q.target(), q.options()));
        Runnable packed = () -> {
            for (int first = 0; first < queries.size(); ) {
                int tokens = 0;
                int end = first;
                while (end < queries.size() && (end == first || tokens + queries.get(end).prompt().length <= 256)) {
                    tokens += queries.get(end).prompt().length;
                    end++;
                }
                attributor.attributeAll(queries.subList(first, end));
                first = end;
            }
        };
        alone.run();
        packed.run();
        Timing.Summary a = Timing.measure(0, 3, alone);
        Timing.Summary p = Timing.measure(0, 3, packed);
        System.out.printf("%d prompts: one at a time %s = %.2f prompts/s; packed %s = %.2f prompts/s (%.2fx)%n",
                queries.size(), a, queries.size() / (a.medianMs() / 1000), p, queries.size() / (p.medianMs() / 1000),
                a.medianMs() / p.medianMs());
    }
}
