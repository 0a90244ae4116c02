package dev.engram.runtime.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.attribution.ScoredNeuron;
import dev.engram.editing.AlphaEditOptions;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.HalfProducts;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelWeights;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Half-precision checkpoints held in half precision: stories260K's real weights written as F16 and as BF16 safetensors,
 * loaded with their matrices in F16 ({@link WeightStorage#STORED}) and widened to F32 ({@link WeightStorage#F32}).
 * The F16 model gives the F32 model's logits within F16's tolerance, and every reader of the weights (forward pass,
 * attribution, each edit method, export) runs on it.
 */
class HalfPrecisionTest {
    private static final String SUBJECT = "a little girl";
    private static final String TEMPLATE = "Once upon a time, there was {} named";
    private static final List<String> PROMPTS = List.of("Once upon a time, there was a little girl named",
            "One day, Lily went to the park and saw a big", "Tom and his mom");
    /**
     * |Δ logit| allowed between the F16 and the F32 computation on the same weights. F16 keeps 11 significant bits
     * (unit roundoff u = 2^−11 ≈ 4.9e−4); each product rounds its input and its output to F16, so each block adds
     * errors of a few u relative to the residual, and stories260K's logits reach about 20.
     */
    private static final float LOGIT_TOLERANCE = 0.05f;

    @TempDir
    static Path dir;
    private static Model stories;

    @BeforeAll
    static void writeStoriesInHalfPrecision() throws IOException {
        stories = TestModels.sharedStories260K();
        HfCheckpoint.save(stories, dir.resolve("f16"), Dtype.F16, 1);
        HfCheckpoint.save(stories, dir.resolve("bf16"), Dtype.BF16, 2);
    }

    /** A half checkpoint loaded as {@code storage}, with stories260K's tokenizer (llama2.c tokenizers are not exported). */
    private static Model load(String dtype, WeightStorage storage) throws IOException {
        Model loaded = HfCheckpoint.load(dtype + "-" + storage, dir.resolve(dtype), TestModels.root(), storage);
        return new Model(loaded.name(), loaded.config(), loaded.weights().base(), stories.tokenizer());
    }

    @Test
    void everyBf16ValueBecomesF16ExactlyInItsNormalRangeAndWithinHalfASubnormalStepBelowIt() {
        int overflows = 0;
        for (int bits = 0; bits < 1 << 16; bits++) {
            float value = Dtype.bf16ToFloat((short) bits);
            int half = Dtype.bf16AsF16((short) bits);
            if (Float.isNaN(value) || Float.isInfinite(value)) {
                assertEquals(Float.toString(value), Float.toString(Dtype.f16ToFloat((short) half)));
            } else if (Float.isFinite(value) && Math.abs(value) > 65504f) {
                assertEquals(-1, half, "beyond F16's range: " + value);
                overflows++;
            } else {
                double error = Math.abs((double) Dtype.f16ToFloat((short) half) - value);
                double allowed = Math.abs(value) >= 0x1p-14 ? 0 : 0x1p-25;
                assertTrue(error <= allowed, value + " became " + Dtype.f16ToFloat((short) half));
            }
        }
        assertEquals(2 * (0x7f80 - 0x4780), overflows, "every finite BF16 value from 65536 on, both signs");
    }

    @Test
    void halfCheckpointsKeepTheirMatricesInF16AndTheirVectorsInF32() throws IOException {
        for (String dtype : List.of("f16", "bf16")) {
            try (Model half = load(dtype, WeightStorage.STORED); Model wide = load(dtype, WeightStorage.F32)) {
                ModelWeights h = half.weights().base();
                LayerWeights layer = h.layer(1);
                for (NDArray matrix : List.of(h.tokenEmbedding(), layer.wQ(), layer.wK(), layer.wV(), layer.wO(),
                        layer.wGate(), layer.wUp(), layer.wDown())) {
                    assertEquals(DataType.FLOAT16, matrix.getDataType(), dtype);
                }
                for (NDArray vector : List.of(layer.attnNormWeight(), layer.ffnNormWeight(), h.finalNormWeight())) {
                    assertEquals(DataType.FLOAT32, vector.getDataType(), dtype);
                }
                assertEquals(DataType.FLOAT32, wide.weights().base().layer(1).wDown().getDataType(), dtype);
                // the same values: the F16 matrix widened is the F32 load's matrix
                assertArrayEquals(wide.weights().base().layer(1).wDown().toFloatArray(),
                        layer.wDown().toType(DataType.FLOAT32, true).toFloatArray(), 0f, dtype);
            }
        }
    }

    @Test
    void theF16ComputationGivesTheF32LogitsWithinF16Tolerance() throws IOException {
        for (HalfProducts products : HalfProducts.values()) {
            HalfProducts.use(products);
            try {
                for (String dtype : List.of("f16", "bf16")) {
                    assertHalfLogits(dtype, products);
                }
            } finally {
                HalfProducts.use(null);
            }
        }
    }

    private void assertHalfLogits(String dtype, HalfProducts products) throws IOException {
        try (Model half = load(dtype, WeightStorage.STORED); Model wide = load(dtype, WeightStorage.F32)) {
            for (String prompt : PROMPTS) {
                int[] tokens = stories.tokenizer().encodePrompt(prompt);
                float[] expected = ForwardPass.of(wide).lastLogits(tokens);
                float[] actual = ForwardPass.of(half).lastLogits(tokens);
                float worst = 0;
                for (int i = 0; i < expected.length; i++) {
                    worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
                }
                String what = dtype + ", " + products + ", '" + prompt + "'";
                if (products == HalfProducts.IN_HALF) {
                    assertTrue(worst <= LOGIT_TOLERANCE, what + ": max |Δ logit| " + worst);
                    assertTrue(worst > 0, what + ": the F16 path computed nothing in F16");
                } else { // the same F16 values widened, multiplied in F32: the F32 model's products
                    assertTrue(worst <= 1e-4, what + ": max |Δ logit| " + worst);
                }
                assertEquals(new NextTokenDistribution(expected).argmax(),
                        new NextTokenDistribution(actual).argmax(), what);
            }
        }
    }

    @Test
    void attributionFindsTheSameValueNeuronsOnHalfWeights() throws IOException {
        int[] prompt = stories.tokenizer().encodePrompt(PROMPTS.get(0));
        try (Model half = load("f16", WeightStorage.STORED); Model wide = load("f16", WeightStorage.F32)) {
            Set<String> halfTop = top10(half, prompt);
            Set<String> wideTop = top10(wide, prompt);
            halfTop.retainAll(wideTop);
            assertTrue(halfTop.size() >= 9, "shared top-10 value neurons: " + halfTop.size());
        }
    }

    private static Set<String> top10(Model model, int[] prompt) {
        List<ScoredNeuron> neurons = new Attributor(model).attribute(prompt, null, AttributionOptions.defaults(10))
                .steps().get(0).valueNeurons();
        return neurons.stream().limit(10).map(n -> n.id().toString()).collect(Collectors.toSet());
    }

    /**
     * Every edit method edits the F16 model as it edits the F32 model (P(new) afterwards within 0.05), and the export
     * (each matrix widened, the delta added) loads as F32 with the F32 model's logits under the same delta: nothing
     * reads a half matrix as if it were F32.
     */
    @Test
    void everyEditMethodEditsAHalfModelAndItsExportIsTheF32ModelWithTheSameDelta() throws IOException {
        try (Model half = load("f16", WeightStorage.STORED); Model wide = load("f16", WeightStorage.F32)) {
            EditCase edit = new EditCase(stories.tokenizer().encodePrompt(TEMPLATE.replace("{}", SUBJECT)),
                    stories.tokenizer().encodeContinuation(" Sue"), stories.tokenizer().encodeContinuation(" Lily"),
                    List.of(), List.of()).withSubject(half, SUBJECT, TEMPLATE);
            for (EditMethod<?> method : EditMethods.all()) {
                EditOptions options = EditOptions.defaults(method, half.config().nLayers());
                if (method == EditMethods.ALPHA_EDIT) {
                    AlphaEditOptions a = AlphaEditOptions.defaults(); // as KeyValueMethodsTest: a wider null space here
                    options = options.withMethodOptions(new AlphaEditOptions(a.layers(), 10, a.l2Weight(), a.target()));
                }
                EditResult result = new Editor(half).edit(edit, options);
                EditResult wideResult = new Editor(wide).edit(edit, options);
                Model edited = half.edited(result.delta());
                double halfNew = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(edit.prompt()))
                        .probability(edit.targetNew()[0]);
                double wideNew = new NextTokenDistribution(ForwardPass.of(wide.edited(wideResult.delta()))
                        .lastLogits(edit.prompt())).probability(edit.targetNew()[0]);
                assertEquals(wideNew, halfNew, 0.05, method.name() + ": P(Sue) after the edit");
                Path export = dir.resolve("export-" + method.name());
                HfCheckpoint.save(edited, export, Dtype.F32, 1);
                try (Model reloaded = HfCheckpoint.load("reloaded", export, TestModels.root())) {
                    assertArrayEquals(ForwardPass.of(wide.edited(result.delta())).lastLogits(edit.prompt()),
                            ForwardPass.of(reloaded).lastLogits(edit.prompt()), 1e-4f, method.name());
                }
            }
        }
    }
}
