package dev.engram.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Shared Predict passes give every caller what a pass of its own prompt alone gives. */
class NextTokenBatcherTest {
    private static final String[] PROMPTS = {"The capital of France is", "Thank you very", "A", "One, two, three, four,",
        "The quick brown fox jumps over the lazy", "Water", "Good morning, how are", "Spiders have eight"};

    @Test
    void aPackedPassGivesEachPromptItsOwnLastLogits() {
        Model model = TestModels.smolLM2();
        List<int[]> prompts = new ArrayList<>();
        for (String p : PROMPTS) {
            prompts.add(model.tokenizer().encodePrompt(p));
        }
        float[][] packed = ForwardPass.of(model).lastLogits(PackedSequences.of(prompts));
        assertEquals(prompts.size(), packed.length);
        for (int k = 0; k < prompts.size(); k++) {
            assertClose(ForwardPass.of(model).lastLogits(prompts.get(k)), packed[k], PROMPTS[k]);
        }
    }

    @Test
    void concurrentCallersShareFewerPassesThanCallsAndGetTheirOwnAnswers() throws Exception {
        Model model = TestModels.smolLM2();
        NextTokenBatcher batcher = new NextTokenBatcher(512);
        int callers = 16;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        List<Future<float[]>> answers = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            int[] tokens = model.tokenizer().encodePrompt(PROMPTS[c % PROMPTS.length]);
            answers.add(pool.submit(() -> {
                start.await();
                return batcher.lastLogits(model, tokens);
            }));
        }
        start.countDown();
        for (int c = 0; c < callers; c++) {
            float[] expected = ForwardPass.of(model).lastLogits(model.tokenizer().encodePrompt(PROMPTS[c % PROMPTS.length]));
            assertClose(expected, answers.get(c).get(), PROMPTS[c % PROMPTS.length]);
        }
        pool.shutdown();
        assertTrue(batcher.passes() < callers, batcher.passes() + " passes for " + callers + " concurrent calls");
        assertEquals(1, batcher.peakConcurrentPasses(), "one runner: passes never overlap");
    }

    @Test
    void withTwoRunnersPassesOverlapButNeverExceedTwoAndAnswersStayExact() throws Exception {
        Model model = TestModels.smolLM2();
        NextTokenBatcher batcher = new NextTokenBatcher(512, 2);
        int callers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        for (int round = 0; round < 20 && batcher.peakConcurrentPasses() < 2; round++) {
            List<Future<float[]>> answers = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int[] tokens = model.tokenizer().encodePrompt(PROMPTS[c]);
                // staggered arrivals: later callers come while an earlier pass runs
                long delay = 20L * c;
                answers.add(pool.submit(() -> {
                    Thread.sleep(delay);
                    return batcher.lastLogits(model, tokens);
                }));
            }
            for (int c = 0; c < callers; c++) {
                assertClose(ForwardPass.of(model).lastLogits(model.tokenizer().encodePrompt(PROMPTS[c])),
                        answers.get(c).get(), PROMPTS[c]);
            }
        }
        pool.shutdown();
        assertEquals(2, batcher.peakConcurrentPasses(), "two runners: a caller arriving during a pass starts its own");
    }

    @Test
    void aBatcherNeedsAtLeastOneRunner() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new NextTokenBatcher(512, 0));
    }

    @Test
    void aPromptOverTheTokenBudgetRunsAloneAndStillAnswers() {
        Model model = TestModels.smolLM2();
        int[] tokens = model.tokenizer().encodePrompt(PROMPTS[0]);
        float[] alone = new NextTokenBatcher(2).lastLogits(model, tokens);
        assertClose(ForwardPass.of(model).lastLogits(tokens), alone, PROMPTS[0]);
    }

    /** Equal to 1e-5 of the logits' scale (a packed matrix product sums in another order). */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        double scale = 1;
        for (int v = 0; v < expected.length; v++) {
            worst = Math.max(worst, Math.abs(expected[v] - actual[v]));
            scale = Math.max(scale, Math.abs(expected[v]));
        }
        assertTrue(worst <= 1e-5 * scale, what + ": largest logit difference " + worst + " at scale " + scale);
    }
}
