package dev.engram.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.RewrittenModels;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Neuron scalings and sparse weight deltas change the forward pass exactly as their definitions say. */
class InterventionTest {
    private static final Model model = TestModels.sharedStories260K();
    private static final int[] TOKENS = {1, 403, 29, 11, 360, 261, 45};

    private static float[] lastResidual(Trace t) {
        return t.residPost(t.config().nLayers() - 1).get(t.lastPosition()).toFloatArray();
    }

    @Test
    void zeroingAnFfnNeuronOfTheLastLayerRemovesExactlyItsVector() {
        int last = model.config().nLayers() - 1;
        int k = 17;
        try (Trace base = ForwardPass.of(model).trace(TOKENS);
                Trace ablated = ForwardPass.of(model)
                        .withScaling(NeuronScaling.none().ffn(last, k, TOKENS.length - 1, 0f)).trace(TOKENS)) {
            float m = base.ffnCoefficients(last).getFloat(TOKENS.length - 1, k);
            float[] subvalue = model.weights().base().layer(last).wDown().get(k).toFloatArray();
            float[] expected = lastResidual(base);
            for (int i = 0; i < expected.length; i++) {
                expected[i] -= m * subvalue[i];
            }
            assertTrue(Math.abs(m) > 1e-3, "neuron is inactive; pick another");
            assertArrayEquals(expected, lastResidual(ablated), 1e-5f);
        }
    }

    @Test
    void scalingAnAttentionNeuronOfTheLastLayerScalesExactlyItsVector() {
        int last = model.config().nLayers() - 1;
        int head = 5;
        int dim = 3;
        int source = 2;
        int t = TOKENS.length - 1;
        try (Trace base = ForwardPass.of(model).trace(TOKENS);
                Trace scaled = ForwardPass.of(model)
                        .withScaling(NeuronScaling.none().attention(last, head, dim, source, t, 3f)).trace(TOKENS)) {
            float coefficient = base.pattern(last).getFloat(head, t, source) * base.value(last).getFloat(head, source, dim);
            float[] subvalue = model.weights().base().layer(last).wO().get(head * model.config().headDim() + dim).toFloatArray();
            // compare mid^L: the change also passes through layer L's FFN afterwards
            float[] expected = base.residMid(last).get(t).toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                expected[i] += 2f * coefficient * subvalue[i]; // (3 − 1)·c·subvalue
            }
            assertTrue(Math.abs(coefficient) > 1e-4, "neuron is inactive; pick another");
            assertArrayEquals(expected, scaled.residMid(last).get(t).toFloatArray(), 1e-5f);
        }
    }

    @Test
    void aRowDeltaOnASubvalueAddsCoefficientTimesDelta() {
        int last = model.config().nLayers() - 1;
        int k = 40;
        float[] delta = SyntheticModels.gaussian(model.config().dModel(), 1);
        try (Trace base = ForwardPass.of(model).trace(TOKENS);
                Trace edited = ForwardPass.of(model.edited(model.deltaBuilder()
                        .add(last, Param.FFN_DOWN, WeightDelta.Slice.ROW, k, delta).build())).trace(TOKENS)) {
            float m = base.ffnCoefficients(last).getFloat(TOKENS.length - 1, k);
            float[] expected = lastResidual(base);
            for (int i = 0; i < expected.length; i++) {
                expected[i] += m * delta[i];
            }
            assertArrayEquals(expected, lastResidual(edited), 1e-5f);
        }
    }

    /** Every kind of sparse delta equals a forward pass through a model whose matrix was really changed. */
    @Test
    void sparseDeltasMatchAModelWithTheWeightsRewritten() {
        WeightDelta delta = model.deltaBuilder()
                .add(0, Param.FFN_UP, WeightDelta.Slice.COLUMN, 5, SyntheticModels.gaussian(64, 2))
                .add(1, Param.FFN_GATE, WeightDelta.Slice.COLUMN, 9, SyntheticModels.gaussian(64, 3))
                .add(1, Param.ATTN_V, WeightDelta.Slice.COLUMN, 7, SyntheticModels.gaussian(64, 4))
                .add(2, Param.ATTN_O, WeightDelta.Slice.ROW, 12, SyntheticModels.gaussian(64, 5))
                .add(2, Param.ATTN_Q, WeightDelta.Slice.ROW, 30, SyntheticModels.gaussian(64, 6))
                .add(3, Param.FFN_DOWN, WeightDelta.Slice.ROW, 100, SyntheticModels.gaussian(64, 7))
                .add(3, Param.FFN_UP, WeightDelta.Slice.COLUMN, 100, SyntheticModels.gaussian(64, 8)).build();
        float[] viaDelta = ForwardPass.of(model.edited(delta)).lastLogits(TOKENS);
        try (Model rewritten = RewrittenModels.rewrite(model, delta)) {
            float[] viaWeights = ForwardPass.of(rewritten).lastLogits(TOKENS);
            assertArrayEquals(viaWeights, viaDelta, 1e-4f);
        }
        float[] unedited = ForwardPass.of(model).lastLogits(TOKENS);
        assertTrue(maxAbsDiff(unedited, viaDelta) > 1e-2, "the delta changed nothing");
    }

    @Test
    void badInterventionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ForwardPass.of(model)
                .withScaling(NeuronScaling.none().ffn(0, 999, 0, 0f)).lastLogits(TOKENS));
        assertThrows(IllegalArgumentException.class, () -> ForwardPass.of(model)
                .withScaling(NeuronScaling.none().attention(0, 0, 0, TOKENS.length, 0, 0f)).lastLogits(TOKENS));
        float[] nan = new float[64];
        nan[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class,
                () -> model.deltaBuilder().add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 0, nan));
        assertThrows(IllegalArgumentException.class,
                () -> model.deltaBuilder().add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 0, new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> model.deltaBuilder().add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 172, new float[64]));
        assertThrows(IllegalArgumentException.class,
                () -> model.deltaBuilder().add(5, Param.FFN_DOWN, WeightDelta.Slice.ROW, 0, new float[64]));
        assertThrows(IllegalArgumentException.class, () -> model.deltaBuilder()
                .add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 0, new float[64])
                .add(0, Param.FFN_DOWN, WeightDelta.Slice.ROW, 0, new float[64]));
        assertThrows(IllegalArgumentException.class, () -> ForwardPass.of(model).lastLogits(new int[0]));
        assertThrows(IllegalArgumentException.class, () -> ForwardPass.of(model).lastLogits(new int[] {512}));
    }

    @Test
    void gpt2InterventionsWorkTheSameWay() {
        try (Model gpt2 = SyntheticModels.random("g", SyntheticModels.gpt2(32, 2, 4), false, 9, TestModels.root())) {
            int[] tokens = {464, 3139, 286, 4881, 318};
            try (Trace base = ForwardPass.of(gpt2).trace(tokens);
                    Trace ablated = ForwardPass.of(gpt2)
                            .withScaling(NeuronScaling.none().ffn(1, 3, NeuronScaling.ALL_POSITIONS, 0f)).trace(tokens)) {
                float m = base.ffnCoefficients(1).getFloat(tokens.length - 1, 3);
                float[] subvalue = gpt2.weights().base().layer(1).wDown().get(3).toFloatArray();
                float[] expected = lastResidual(base);
                for (int i = 0; i < expected.length; i++) {
                    expected[i] -= m * subvalue[i];
                }
                assertArrayEquals(expected, lastResidual(ablated), 1e-5f);
            }
        }
    }



    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
