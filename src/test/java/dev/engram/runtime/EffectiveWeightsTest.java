package dev.engram.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.engram.support.RewrittenModels;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The copy-free view base + delta against a model whose matrices really hold the delta. */
class EffectiveWeightsTest {


    /** Rows and columns of several matrices, two entries in one matrix. */
    private static WeightDelta mixedDelta(Model model) {
        ModelConfig c = model.config();
        int d = c.dModel();
        return model.deltaBuilder()
                .add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 3, SyntheticModels.gaussian(d, 1))
                .add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 7, SyntheticModels.gaussian(d, 2))
                .add(1, Param.ATTN_O, WeightDelta.Slice.ROW, 5, SyntheticModels.gaussian(d, 3))
                .add(1, Param.FFN_UP, WeightDelta.Slice.COLUMN, 11, SyntheticModels.gaussian(d, 4))
                .add(1, Param.ATTN_V, WeightDelta.Slice.COLUMN, 2, SyntheticModels.gaussian(d, 5))
                .add(c.nLayers() - 1, Param.FFN_DOWN, WeightDelta.Slice.ROW, 9, SyntheticModels.gaussian(d, 6))
                .build();
    }

    @Test
    void everyReadOfTheViewEqualsTheRewrittenMatrices() {
        Model base = TestModels.sharedStories260K();
        WeightDelta delta = mixedDelta(base);
        Model edited = base.edited(delta);
        try (Model rewritten = RewrittenModels.rewrite(base, delta); NDManager m = TestModels.root().newSubManager()) {
            for (WeightDelta.Entry e : delta.entries()) {
                NDArray truth = rewritten.weights().base().layer(e.layer()).matrix(e.param());
                int in = (int) truth.getShape().get(0);
                int out = (int) truth.getShape().get(1);
                assertArrayEquals(truth.toFloatArray(), edited.weights().rows(e.layer(), e.param(), range(in))
                        .toFloatArray(), 1e-6f, "rows " + e.key());
                for (int col : new int[] {0, 7, 11, out - 1}) {
                    assertArrayEquals(truth.get(new ai.djl.ndarray.index.NDIndex(":, {}", col)).toFloatArray(),
                            edited.weights().column(e.layer(), e.param(), col).toFloatArray(), 1e-6f);
                }
                NDArray x = m.create(SyntheticModels.gaussian(2 * in, 7), new Shape(2, in));
                assertArrayEquals(x.matMul(truth).toFloatArray(),
                        edited.weights().times(x, e.layer(), e.param()).toFloatArray(), 1e-5f, "times " + e.key());
                NDArray k = m.create(SyntheticModels.gaussian(out * 3, 8), new Shape(out, 3));
                assertArrayEquals(truth.matMul(k).toFloatArray(),
                        edited.weights().timesRight(e.layer(), e.param(), k).toFloatArray(), 1e-5f, "timesRight");
                assertArrayEquals(e.updated(), edited.weights().vector(e.key()), 1e-6f, "updated " + e.key());
                assertArrayEquals(e.original(), base.weights().vector(e.key()), 0f, "original " + e.key());
            }
        }
    }

    /**
     * Export's dense copies W + A·B equal the rewritten matrices and belong to the manager they are made in: closing it
     * frees every one, and the base model's manager holds no more arrays than before (the soak found every export
     * keeping its copies there).
     */
    @Test
    void materializedMatricesEqualTheRewrittenOnesAndGoWithTheirManager() {
        Model base = TestModels.sharedStories260K();
        WeightDelta delta = mixedDelta(base);
        Model edited = base.edited(delta);
        NDManager baseManager = base.weights().manager();
        int before = baseManager.getManagedArrays().size();
        try (Model rewritten = RewrittenModels.rewrite(base, delta); NDManager copies = baseManager.newSubManager()) {
            ModelWeights dense = edited.weights().materialize(copies);
            for (WeightDelta.Entry e : delta.entries()) {
                assertArrayEquals(rewritten.weights().base().layer(e.layer()).matrix(e.param()).toFloatArray(),
                        dense.layer(e.layer()).matrix(e.param()).toFloatArray(), 1e-6f, e.key().toString());
            }
        }
        assertEquals(before, baseManager.getManagedArrays().size(), "materialize left arrays in the base's manager");
    }

    /** Acceptance: the delta through the view gives the logits of rewritten weights within 1e-5, for both families. */
    @Test
    void logitsThroughTheViewEqualRewrittenWeights() {
        Model stories = TestModels.sharedStories260K();
        Model gpt2 = SyntheticModels.random("g", SyntheticModels.gpt2(32, 2, 4), false, 9, TestModels.root());
        for (Model base : new Model[] {stories, gpt2}) {
            int[] tokens = {1, 403, 407, 261, 378, 267, 11};
            WeightDelta delta = mixedDelta(base);
            float[] view = ForwardPass.of(base.edited(delta)).lastLogits(tokens);
            try (Model rewritten = RewrittenModels.rewrite(base, delta)) {
                float[] truth = ForwardPass.of(rewritten).lastLogits(tokens);
                assertArrayEquals(truth, view, 1e-5f);
            }
            float[] unedited = ForwardPass.of(base).lastLogits(tokens);
            double moved = 0;
            for (int i = 0; i < view.length; i++) {
                moved = Math.max(moved, Math.abs(view[i] - unedited[i]));
            }
            assertTrue(moved > 1e-2, "the delta changed nothing");
        }
        gpt2.close();
    }

    @Test
    void viewsShareTheBaseAndClosingAViewFreesNothing() {
        Model base = TestModels.sharedStories260K();
        Model edited = base.edited(mixedDelta(base));
        assertTrue(edited.weights().base() == base.weights().base());
        edited.close();
        assertEquals(512, ForwardPass.of(base).lastLogits(new int[] {1, 403}).length);
        assertTrue(base.delta().isEmpty());
    }

    @Test
    void deltasAreValuesWithStableHashes() {
        Model base = TestModels.sharedStories260K();
        WeightDelta a = mixedDelta(base);
        WeightDelta b = mixedDelta(base);
        assertEquals(a.hash(), b.hash());
        assertEquals(a, b);
        assertEquals(64, a.hash().length());
        WeightDelta other = base.deltaBuilder().add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 3, SyntheticModels.gaussian(64, 99)).build();
        assertNotEquals(a.hash(), other.hash());
        long expected = 6 * 64;
        assertEquals(expected, a.parametersTouched());
        float[] change = a.entries().get(0).change();
        change[0] = 1e9f;
        assertNotEquals(1e9f, a.entries().get(0).change()[0], "entries must be immutable");
        assertThrows(IllegalArgumentException.class, () -> base.deltaBuilder()
                .add(0, Param.FFN_GATE, WeightDelta.Slice.COLUMN, 172, new float[64]));
        assertThrows(IllegalArgumentException.class, () -> base.deltaBuilder()
                .add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 3, new float[64])
                .add(0, Param.FFN_DOWN, WeightDelta.Slice.COLUMN, 3, new float[172]).build());
        assertThrows(IllegalArgumentException.class, () -> WeightDelta.builder(base.config())
                .add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 0, new float[64], new float[] {Float.POSITIVE_INFINITY}));
    }

    private static long[] range(int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }
}
