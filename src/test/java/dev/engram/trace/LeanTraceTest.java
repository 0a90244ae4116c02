package dev.engram.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A lean trace recomputes pattern rows, FFN coefficients and logits from what it keeps; each must equal what a full
 * trace recorded, at every layer and position, and its residuals must equal the full trace's, also when attention ran
 * in query blocks (prompts longer than {@link ForwardPass#QUERY_BLOCK}).
 */
class LeanTraceTest {

    private static void checkAgainstFullTrace(Model model, int[] tokens, float tolerance) {
        try (Trace full = ForwardPass.of(model).trace(tokens); Trace lean = ForwardPass.of(model).leanTrace(tokens)) {
            assertTrue(lean.isLean());
            checkSameRows(model, full, lean, tolerance);
        }
    }

    private static void checkSameRows(Model model, Trace full, Trace lean, float tolerance) {
        int layers = model.config().nLayers();
        int length = full.length();
        int[] positions = {0, length / 3, length / 2, length - 1};
        try (NDScope scope = new NDScope()) {
            for (int l = 0; l < layers; l++) {
                String what = model.name() + " layer " + l;
                assertClose(full.residPre(l).toFloatArray(), lean.residPre(l).toFloatArray(), tolerance, what);
                assertClose(full.residMid(l).toFloatArray(), lean.residMid(l).toFloatArray(), tolerance, what);
                assertClose(full.residPost(l).toFloatArray(), lean.residPost(l).toFloatArray(), tolerance, what);
                assertClose(full.value(l).toFloatArray(), lean.value(l).toFloatArray(), tolerance, what);
                for (int t : positions) {
                    assertClose(full.pattern(l).get(":, " + t + ", :" + (t + 1)).toFloatArray(),
                            lean.patternRow(l, t).toFloatArray(), tolerance, what + " pattern row " + t);
                    assertClose(full.ffnCoefficients(l).get(t).toFloatArray(),
                            lean.ffnCoefficientsAt(l, t).toFloatArray(), tolerance, what + " coefficients at " + t);
                }
            }
            for (int l = 0; l < layers; l++) {
                checkRowsOfSeveralPositions(model, full, full, positions, l, tolerance);
                checkRowsOfSeveralPositions(model, full, lean, positions, l, tolerance);
            }
            for (int t : positions) {
                assertClose(full.logits().get(t).toFloatArray(), lean.logitsAt(t).toFloatArray(), 10 * tolerance,
                        model.name() + " logits at " + t);
                assertArrayEquals(full.logits().get(t).toFloatArray(), full.logitsAt(t).toFloatArray());
            }
        }
    }

    /**
     * Rows of several positions at once (out of order, as query scoring asks them): pattern rows [H, P, S] over sources
     * 0..max, each zero after its own position, and coefficients [P, d_ffn], against the full trace's arrays read
     * element by element.
     */
    private static void checkRowsOfSeveralPositions(Model model, Trace full, Trace rows, int[] positions, int layer,
            float tolerance) {
        int[] asked = {positions[3], positions[0], positions[2]};
        int heads = model.config().nHeads();
        int length = full.length();
        int sources = positions[3] + 1;
        float[] pattern = full.pattern(layer).toFloatArray(); // [H, T, T]
        float[] expected = new float[heads * asked.length * sources];
        for (int j = 0; j < heads; j++) {
            for (int i = 0; i < asked.length; i++) {
                for (int s = 0; s <= asked[i]; s++) {
                    expected[(j * asked.length + i) * sources + s] = pattern[(j * length + asked[i]) * length + s];
                }
            }
        }
        String what = model.name() + " layer " + layer + (rows.isLean() ? " (lean)" : " (full)");
        assertClose(expected, rows.patternRows(layer, asked).toFloatArray(), tolerance, what + " pattern rows");
        int width = model.config().dFfn();
        float[] coefficients = full.ffnCoefficients(layer).toFloatArray(); // [T, d_ffn]
        float[] expectedCoefficients = new float[asked.length * width];
        for (int i = 0; i < asked.length; i++) {
            System.arraycopy(coefficients, asked[i] * width, expectedCoefficients, i * width, width);
        }
        assertClose(expectedCoefficients, rows.ffnCoefficientsAt(layer, asked).toFloatArray(), tolerance,
                what + " coefficients");
    }

    /** Equal to {@code tolerance} of the array's scale (SmolLM2's first position carries activations in the thousands). */
    private static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        float scale = 1;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        assertArrayEquals(expected, actual, tolerance * scale, what);
    }

    @Test
    void stories260KWithGroupedQueryAttention() {
        checkAgainstFullTrace(TestModels.sharedStories260K(), new int[] {1, 403, 407, 261, 378, 432, 290}, 1e-5f);
    }

    @Test
    void smolLM2() {
        Model model = TestModels.smolLM2();
        checkAgainstFullTrace(model, model.tokenizer().encodePrompt("The capital of France is"), 1e-5f);
    }

    @Test
    void gpt2WithLearnedPositionsAndBiases() {
        try (Model gpt2 = SyntheticModels.random("gpt2-lean", SyntheticModels.gpt2(32, 2, 4), true, 5, TestModels.root())) {
            checkAgainstFullTrace(gpt2, new int[] {464, 3139, 286, 4881, 318}, 1e-5f);
        }
    }

    /** 300 tokens: attention runs in two blocks of queries in the lean pass, in one piece in the full one. */
    @Test
    void aPromptLongerThanOneQueryBlockGivesTheSameRows() {
        Model model = TestModels.sharedStories260K();
        int[] tokens = new int[AttentionStep.QUERY_BLOCK + 44];
        Random random = new Random(11);
        tokens[0] = 1;
        for (int i = 1; i < tokens.length; i++) {
            tokens[i] = 3 + random.nextInt(model.config().vocabSize() - 3);
        }
        checkAgainstFullTrace(model, tokens, 1e-5f);
    }

    @Test
    void packedLeanTracesSliceLikeLeanTracesOfEachSequence() {
        Model model = TestModels.sharedStories260K();
        List<int[]> sequences = List.of(new int[] {1, 403, 407, 261}, new int[] {1, 291, 262, 300, 301});
        try (ForwardPass.PackedTraces packed = ForwardPass.of(model).leanTraces(sequences)) {
            for (int k = 0; k < sequences.size(); k++) {
                try (Trace full = ForwardPass.of(model).trace(sequences.get(k))) {
                    checkSameRows(model, full, packed.each().get(k), 1e-5f);
                }
            }
        }
    }

    @Test
    void aLeanTraceRefusesWholePatternsAndScaledPasses() {
        Model model = TestModels.sharedStories260K();
        try (Trace lean = ForwardPass.of(model).leanTrace(new int[] {1, 403, 407})) {
            assertThrows(IllegalStateException.class, () -> lean.pattern(0));
            assertThrows(IllegalStateException.class, () -> lean.ffnCoefficients(0));
            assertThrows(IllegalStateException.class, lean::logits);
        }
        NeuronScaling scaling = NeuronScaling.none().ffn(0, 3, NeuronScaling.ALL_POSITIONS, 0f);
        assertThrows(IllegalStateException.class,
                () -> ForwardPass.of(model).withScaling(scaling).leanTrace(new int[] {1, 403}));
    }
}
