package dev.engram.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Cached generation against re-running the whole prefix, token for token. */
class KvCacheTest {

    /** Greedy decoding two ways: each step's logits with the cache equal the uncached logits of the full prefix. */
    private static void checkTokenForToken(Model model, int[] prompt, int steps) {
        int[] sequence = prompt.clone();
        try (KvCache cache = new KvCache(model)) {
            ForwardPass pass = ForwardPass.of(model);
            float[] cached = pass.extend(prompt, cache);
            for (int i = 0; i < steps; i++) {
                float[] uncached = ForwardPass.of(model).lastLogits(sequence);
                assertArrayEquals(uncached, cached, 1e-4f, model.name() + " step " + i);
                int next = new NextTokenDistribution(uncached).argmax();
                sequence = Arrays.copyOf(sequence, sequence.length + 1);
                sequence[sequence.length - 1] = next;
                assertEquals(sequence.length - 1, cache.length());
                cached = pass.extend(new int[] {next}, cache);
            }
        }
        assertArrayEquals(sequence, new GreedyGenerator(model).generate(prompt, steps));
    }

    @Test
    void stories260KWithGroupedQueryAttentionAndAdjacentRope() {
        checkTokenForToken(TestModels.sharedStories260K(), new int[] {1, 403, 407, 261}, 24);
    }

    @Test
    void gpt2WithLearnedPositionsAndBiases() {
        try (Model gpt2 = SyntheticModels.random("gpt2-kv", SyntheticModels.gpt2(32, 2, 4), true, 5, TestModels.root())) {
            checkTokenForToken(gpt2, new int[] {464, 3139, 286, 4881, 318}, 12);
        }
    }

    @Test
    void llamaWithRotateHalfRope() {
        try (Model llama = SyntheticModels.random("llama-kv", SyntheticModels.llama(48, 3, 6, 2, 211, false), true, 7,
                TestModels.root())) {
            checkTokenForToken(llama, new int[] {1, 17, 200, 5}, 12);
        }
    }

    /**
     * A parent and its edit decoded side by side (one packed pass per step, each sequence with its own delta) give,
     * step by step, the logits each gives decoded alone; the edit touches an FFN subvalue and an attention output row.
     */
    @Test
    void aParentAndItsEditDecodedSideBySideMatchEachDecodedAlone() {
        Model base = TestModels.sharedStories260K();
        Model edited = base.edited(base.deltaBuilder()
                .add(3, dev.engram.runtime.Param.FFN_DOWN, dev.engram.runtime.WeightDelta.Slice.ROW, 10, filled(64, 2f))
                .add(1, dev.engram.runtime.Param.ATTN_O, dev.engram.runtime.WeightDelta.Slice.ROW, 5, filled(64, -1.5f))
                .build());
        int[] prompt = {1, 403, 407, 261};
        int steps = 16;
        List<int[]> both = GreedyGenerator.generateEach(List.of(base, edited), prompt, steps);
        int[] parentAlone = new GreedyGenerator(base).generate(prompt, steps);
        int[] editedAlone = new GreedyGenerator(edited).generate(prompt, steps);
        assertArrayEquals(parentAlone, both.get(0), "parent");
        assertArrayEquals(editedAlone, both.get(1), "edited");
        assertFalse(Arrays.equals(parentAlone, editedAlone), "the edit must change the continuation for this to test");
        // logits of every step, both sequences continuing their own tokens
        try (KvCache together = new KvCache(base); KvCache parentCache = new KvCache(base);
                KvCache editedCache = new KvCache(edited)) {
            ForwardPass pair = ForwardPass.ofEach(List.of(base, edited));
            List<int[]> next = List.of(prompt, prompt);
            for (int i = 0; i <= steps; i++) {
                float[][] paired = pair.extend(next, together);
                assertArrayEquals(ForwardPass.of(base).extend(next.get(0), parentCache), paired[0], 1e-4f, "step " + i);
                assertArrayEquals(ForwardPass.of(edited).extend(next.get(1), editedCache), paired[1], 1e-4f, "step " + i);
                if (i < steps) {
                    next = List.of(new int[] {parentAlone[prompt.length + i]}, new int[] {editedAlone[prompt.length + i]});
                }
            }
        }
    }

    @Test
    void viewsOfDifferentBasesAndMixedCachesAreRefused() {
        Model stories = TestModels.sharedStories260K();
        try (Model other = SyntheticModels.random("llama-kv2", SyntheticModels.llama(48, 3, 6, 2, 211, false), true, 7,
                TestModels.root())) {
            assertThrows(IllegalArgumentException.class, () -> ForwardPass.ofEach(List.of(stories, other)));
        }
        try (KvCache cache = new KvCache(stories)) {
            ForwardPass.ofEach(List.of(stories, stories)).extend(List.of(new int[] {1}, new int[] {1}), cache);
            assertThrows(IllegalArgumentException.class, () -> ForwardPass.of(stories).extend(new int[] {403}, cache));
        }
    }

    private static float[] filled(int n, float value) {
        float[] out = new float[n];
        Arrays.fill(out, value);
        return out;
    }

    @Test
    void anEditedViewIsCachedWithItsDelta() {
        Model base = TestModels.sharedStories260K();
        float[] change = new float[64];
        Arrays.fill(change, 0.5f);
        Model edited = base.edited(base.deltaBuilder()
                .add(4, dev.engram.runtime.Param.FFN_DOWN, dev.engram.runtime.WeightDelta.Slice.ROW, 10, change).build());
        checkTokenForToken(edited, new int[] {1, 403, 407}, 8);
    }
}
