package dev.engram.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import java.util.Arrays;
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
