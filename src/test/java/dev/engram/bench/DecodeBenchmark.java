package dev.engram.bench;

import dev.engram.inference.GreedyGenerator;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.TestModels;
import java.util.List;

/**
 * Greedy decoding with the KV cache on SmolLM2: time per generated token (the cost of the fluency check), for one
 * model alone, for a parent and an edit one after the other, for the two decoded side by side
 * ({@link GreedyGenerator#generateEach}), and for one model checking a guessed continuation that is right throughout
 * or wrong from its second token ({@link GreedyGenerator#generate(int[], int, java.util.concurrent.CompletableFuture)}).
 * mvn -B -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.engram.bench.DecodeBenchmark
 */
public final class DecodeBenchmark {
    public static void main(String[] args) {
        Model model = TestModels.smolLM2();
        int[] prompt = model.tokenizer().encodePrompt("The capital of France is");
        int tokens = Integer.getInteger("bench.tokens", 32);
        int runs = Integer.getInteger("bench.runs", 10);
        // an edit of the size the edit methods make: 10 FFN subvalues
        WeightDelta.Builder delta = model.deltaBuilder();
        for (int n = 0; n < 10; n++) {
            delta.add(20, Param.FFN_DOWN, WeightDelta.Slice.ROW, 100 * n, new float[model.config().dModel()]);
        }
        Model edited = model.edited(delta.build());
        Timing.Summary alone = Timing.measure(3, runs, () -> new GreedyGenerator(model).generate(prompt, tokens));
        Timing.Summary oneAfterOther = Timing.measure(3, runs, () -> {
            new GreedyGenerator(model).generate(prompt, tokens);
            new GreedyGenerator(edited).generate(prompt, tokens);
        });
        Timing.Summary sideBySide = Timing.measure(3, runs,
                () -> GreedyGenerator.generateEach(List.of(model, edited), prompt, tokens));
        // checking a guess that is right for every token (the best case of verification's guessed decode) and one
        // that is wrong from its second token (the worst case: one pass of 16 guessed tokens wasted, then plain decoding)
        int[] own = new GreedyGenerator(model).generate(prompt, tokens);
        int[] rightGuess = java.util.Arrays.copyOfRange(own, prompt.length, own.length);
        int[] wrongGuess = rightGuess.clone();
        wrongGuess[1] = (wrongGuess[1] + 1) % model.config().vocabSize();
        Timing.Summary guessedRight = Timing.measure(3, runs, () -> new GreedyGenerator(model).generate(prompt, tokens,
                java.util.concurrent.CompletableFuture.completedFuture(rightGuess)));
        Timing.Summary guessedWrong = Timing.measure(3, runs, () -> new GreedyGenerator(model).generate(prompt, tokens,
                java.util.concurrent.CompletableFuture.completedFuture(wrongGuess)));
        System.out.printf("smollm2: %d greedy tokens after a %d-token prompt, KV cache%n", tokens, prompt.length);
        System.out.printf("  one model, a right guess checked: %s%n", guessedRight);
        System.out.printf("  one model, a wrong guess checked: %s%n", guessedWrong);
        System.out.printf("  one model:                       %s = %.1f ms per token%n", alone, alone.medianMs() / tokens);
        System.out.printf("  parent, then edit:               %s%n", oneAfterOther);
        System.out.printf("  parent and edit side by side:    %s%n", sideBySide);
    }
}
