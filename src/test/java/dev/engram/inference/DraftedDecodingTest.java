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
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Greedy decoding that checks draft tokens several at a time, against plain greedy decoding one token per step. */
class DraftedDecodingTest {

    /** Whatever the reference text, the drafted decode gives exactly the plain greedy continuation. */
    private static void checkAgainstPlainGreedy(Model model, int[] prompt, int tokens, int[]... references) {
        int[] plain = new GreedyGenerator(model).generate(prompt, tokens);
        for (int[] reference : references) {
            int[] drafted = new GreedyGenerator(model).generate(prompt, tokens, new DraftLookup(reference));
            assertArrayEquals(plain, drafted, model.name() + " with reference " + Arrays.toString(reference));
        }
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
    void stories260KGivesThePlainContinuationWithRightWrongAndPartlyRightDrafts() {
        Model model = TestModels.sharedStories260K();
        int[] prompt = {1, 403, 407, 261};
        int[] plain = new GreedyGenerator(model).generate(prompt, 40);
        int[] shifted = Arrays.copyOfRange(plain, 6, plain.length); // right text at the wrong offset
        int[] corrupted = plain.clone();
        for (int i = prompt.length + 3; i < corrupted.length; i += 5) {
            corrupted[i] = (corrupted[i] + 7) % model.config().vocabSize();
        }
        checkAgainstPlainGreedy(model, prompt, 40, plain, shifted, corrupted,
                randomTokens(60, model.config().vocabSize(), 11), new int[0]);
        // a budget the drafts would overshoot stops exactly at it
        assertEquals(prompt.length + 7, new GreedyGenerator(model).generate(prompt, 7, new DraftLookup(plain)).length);
    }

    @Test
    void llamaWithRotateHalfRope() {
        try (Model llama = SyntheticModels.random("llama-draft", SyntheticModels.llama(48, 3, 6, 2, 211, false), true, 7,
                TestModels.root())) {
            int[] prompt = {1, 17, 200, 5};
            int[] plain = new GreedyGenerator(llama).generate(prompt, 20);
            checkAgainstPlainGreedy(llama, prompt, 20, plain, randomTokens(30, 211, 5));
        }
    }

    /** SmolLM2's continuation of one prompt, drafted from its continuation of another (how verification uses it). */
    @Test
    void smolLM2DraftedFromTheContinuationOfAnotherPrompt() {
        Model model = TestModels.smolLM2();
        int[] prompt = model.tokenizer().encodePrompt("The capital of France is");
        int[] other = new GreedyGenerator(model).generate(model.tokenizer().encodePrompt("The capital of Italy is"), 32);
        checkAgainstPlainGreedy(model, prompt, 32, other);
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

    @Test
    void lookupProposesWhatFollowedTheLongestLatestMatch() {
        DraftLookup lookup = new DraftLookup(new int[] {5, 6, 7, 8, 9, 6, 7, 2, 3});
        assertArrayEquals(new int[] {2, 3}, lookup.propose(new int[] {1, 6, 7}, 4)); // "6 7" last seen before "2 3"
        assertArrayEquals(new int[] {8, 9}, lookup.propose(new int[] {5, 6, 7}, 2)); // "5 6 7" is longer
        assertArrayEquals(new int[] {6, 7}, lookup.propose(new int[] {4, 9}, 2));
        assertArrayEquals(new int[0], lookup.propose(new int[] {4, 1}, 3));
        assertArrayEquals(new int[0], lookup.propose(new int[] {3}, 3)); // the reference ends after it
    }
}
