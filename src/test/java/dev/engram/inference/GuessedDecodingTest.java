package dev.engram.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.engram.runtime.Model;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.KvCache;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Greedy decoding that checks a guessed continuation several tokens per pass, against plain greedy decoding one
 * token per step: whatever the guess and whenever it arrives, the tokens must be the plain ones.
 */
class GuessedDecodingTest {

    private static void checkAgainstPlainGreedy(Model model, int[] prompt, int tokens, int[]... guesses) {
        int[] plain = new GreedyGenerator(model).generate(prompt, tokens);
        for (int[] guess : guesses) {
            int[] guessed = new GreedyGenerator(model).generate(prompt, tokens, CompletableFuture.completedFuture(guess));
            assertArrayEquals(plain, guessed, model.name() + " with guess " + Arrays.toString(guess));
        }
    }

    /** The tokens after the prompt in {@code sequence}. */
    private static int[] after(int[] prompt, int[] sequence) {
        return Arrays.copyOfRange(sequence, prompt.length, sequence.length);
    }

    private static int[] randomTokens(int count, int vocab, long seed) {
        Random random = new Random(seed);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = random.nextInt(vocab);
        }
        return out;
    }

    @Test
    void stories260KGivesThePlainContinuationWithRightWrongAndPartlyRightGuesses() {
        Model model = TestModels.sharedStories260K();
        int[] prompt = {1, 403, 407, 261};
        int[] right = after(prompt, new GreedyGenerator(model).generate(prompt, 40));
        int[] partlyRight = right.clone();
        for (int i = 9; i < partlyRight.length; i += 4) { // right for 9 tokens, then every 4th token wrong
            partlyRight[i] = (partlyRight[i] + 7) % model.config().vocabSize();
        }
        int[] wrongFirst = right.clone();
        wrongFirst[0] = (wrongFirst[0] + 1) % model.config().vocabSize();
        int[] shortRight = Arrays.copyOf(right, 5);
        checkAgainstPlainGreedy(model, prompt, 40, right, partlyRight, wrongFirst, shortRight,
                randomTokens(60, model.config().vocabSize(), 11), new int[0]);
        // a budget the guess would overshoot stops exactly at it
        assertEquals(prompt.length + 7, new GreedyGenerator(model).generate(prompt, 7,
                CompletableFuture.completedFuture(right)).length);
    }

    @Test
    void aGuessThatArrivesLateFailsOrNeverComesChangesNothing() throws Exception {
        Model model = TestModels.sharedStories260K();
        int[] prompt = {1, 403, 407};
        int[] plain = new GreedyGenerator(model).generate(prompt, 30);
        CompletableFuture<int[]> never = new CompletableFuture<>();
        assertArrayEquals(plain, new GreedyGenerator(model).generate(prompt, 30, never));
        CompletableFuture<int[]> failed = CompletableFuture.failedFuture(new IllegalStateException("parent failed"));
        assertArrayEquals(plain, new GreedyGenerator(model).generate(prompt, 30, failed));
        for (int delayMs : new int[] {1, 5, 20}) {
            CompletableFuture<int[]> late = new CompletableFuture<>();
            Thread arrival = new Thread(() -> {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                late.complete(after(prompt, plain));
            });
            arrival.start();
            assertArrayEquals(plain, new GreedyGenerator(model).generate(prompt, 30, late), "arriving after " + delayMs);
            arrival.join();
        }
    }

    @Test
    void llamaWithRotateHalfRope() {
        try (Model llama = SyntheticModels.random("llama-guess", SyntheticModels.llama(48, 3, 6, 2, 211, false), true, 7,
                TestModels.root())) {
            int[] prompt = {1, 17, 200, 5};
            int[] right = after(prompt, new GreedyGenerator(llama).generate(prompt, 20));
            checkAgainstPlainGreedy(llama, prompt, 20, right, randomTokens(30, 211, 5));
        }
    }

    /**
     * As verification uses it: SmolLM2's continuation of one prompt, guessed from its continuation of the prompt with
     * another answer after it.
     */
    @Test
    void smolLM2GuessedFromTheContinuationAfterAnotherAnswer() {
        Model model = TestModels.smolLM2();
        int[] prompt = model.tokenizer().encodePrompt("The capital of France is");
        int[] rome = model.tokenizer().encodeContinuation(" Rome");
        int[] withRome = Arrays.copyOf(prompt, prompt.length + rome.length);
        System.arraycopy(rome, 0, withRome, prompt.length, rome.length);
        int[] afterRome = new GreedyGenerator(model).generate(withRome, 32);
        int[] guess = Arrays.copyOfRange(afterRome, prompt.length, afterRome.length);
        int[] plain = new GreedyGenerator(model).generate(prompt, 32);
        checkAgainstPlainGreedy(model, prompt, 32, guess, after(prompt, plain));
    }

    /** Logits at every extended position equal one-token extensions; a truncated cache continues as a fresh one. */
    @Test
    void extendEachAndTruncateMatchStepByStepDecoding() {
        Model model = TestModels.sharedStories260K();
        int[] prompt = {1, 403, 407};
        int[] more = {261, 378, 432, 291};
        try (KvCache each = new KvCache(model); KvCache stepwise = new KvCache(model)) {
            ForwardPass pass = ForwardPass.of(model);
            pass.extend(prompt, each);
            pass.extend(prompt, stepwise);
            float[][] rows = pass.extendEach(more, each);
            for (int i = 0; i < more.length; i++) {
                assertArrayEquals(pass.extend(new int[] {more[i]}, stepwise), rows[i], 1e-4f, "position " + i);
            }
            each.truncate(prompt.length + 1);
            assertEquals(prompt.length + 1, each.length());
            try (KvCache fresh = new KvCache(model)) {
                pass.extend(new int[] {1, 403, 407, 261}, fresh);
                assertArrayEquals(pass.extend(new int[] {291}, fresh), pass.extend(new int[] {291}, each), 1e-4f);
            }
            assertThrows(IllegalArgumentException.class, () -> each.truncate(99));
        }
    }

    /** Several prompts of different lengths decoded side by side on one model give what each gives alone. */
    @Test
    void promptsDecodedSideBySideMatchEachDecodedAlone() {
        Model model = TestModels.sharedStories260K();
        List<int[]> prompts = List.of(new int[] {1, 403, 407}, new int[] {1, 403, 407, 261, 378}, new int[] {1, 291});
        List<int[]> together = new GreedyGenerator(model).generateEach(prompts, 20);
        for (int k = 0; k < prompts.size(); k++) {
            assertArrayEquals(new GreedyGenerator(model).generate(prompts.get(k), 20), together.get(k), "prompt " + k);
        }
    }
}
