package dev.engram.runtime.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.RopeLayout;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One set of weights, written in every supported form, gives the same logits every time. */
class CheckpointRoundTripTest {
    @TempDir
    Path temp;

    private static final int[] TOKENS = {3, 14, 15, 92, 65, 35, 89, 79};

    @Test
    void gpt2LogitsAreIdenticalAcrossF32F16Bf16AndShards() throws IOException {
        ModelConfig config = SyntheticModels.gpt2(32, 2, 4);
        try (Model original = SyntheticModels.random("g", config, false, 3, TestModels.root())) {
            assertSameLogitsInEveryForm(original, TOKENS);
        }
    }

    @Test
    void llamaLogitsAreIdenticalAcrossF32F16Bf16AndShards() throws IOException {
        ModelConfig config = SyntheticModels.llama(32, 2, 4, 2, 97, false);
        try (Model original = SyntheticModels.random("l", config, true, 5, TestModels.root())) {
            assertSameLogitsInEveryForm(original, new int[] {1, 50, 96, 0, 7});
        }
    }

    private void assertSameLogitsInEveryForm(Model original, int[] tokens) throws IOException {
        float[] expected = ForwardPass.of(original).lastLogits(tokens);
        record Form(String name, Dtype dtype, int shards) {
        }
        for (Form form : List.of(new Form("f32", Dtype.F32, 1), new Form("f16", Dtype.F16, 1),
                new Form("bf16", Dtype.BF16, 1), new Form("sharded", Dtype.F32, 3))) {
            Path dir = temp.resolve(original.name() + "-" + form.name());
            try (Model loaded = SyntheticModels.writeAndLoad(dir, original, form.dtype(), form.shards(), null);
                    Model widened = HfCheckpoint.load("widened", dir, TestModels.root(), WeightStorage.F32)) {
                assertEquals(original.config(), loaded.config(), form.name());
                // the synthetic weights are exact in F16 and BF16: widened, every form is the original function
                assertArrayEquals(expected, ForwardPass.of(widened).lastLogits(tokens), 1e-6f, form.name());
                // held in F16 (HalfPrecisionTest), the products round to F16: |Δ logit| within a few 2^−11
                float tolerance = form.dtype() == Dtype.F32 ? 1e-6f : 4e-3f;
                assertArrayEquals(expected, ForwardPass.of(loaded).lastLogits(tokens), tolerance, form.name());
            }
            if (form.shards() > 1) {
                assertTrue(Files.exists(dir.resolve("model-00003-of-00003.safetensors")));
                assertTrue(Files.exists(dir.resolve(SafetensorsCheckpoint.INDEX_FILE)));
            }
        }
    }

    /**
     * stories260K as llama2.c (adjacent rotary pairs) and as an HF Llama checkpoint (q/k rows permuted to
     * rotate-half, read with rotate-half RoPE) are the same function.
     */
    @Test
    void stories260KAsLlama2cAndAsHfLlamaGiveTheSameLogits() throws IOException {
        try (Model llama2c = TestModels.stories260K()) {
            assertEquals(RopeLayout.ADJACENT, llama2c.config().ropeLayout());
            Path dir = temp.resolve("stories-hf");
            try (Model hf = SyntheticModels.writeAndLoad(dir, llama2c, Dtype.F32, 1, null)) {
                assertEquals(RopeLayout.HALF, hf.config().ropeLayout());
                int[] prompt = llama2c.tokenizer().encodePrompt("Once upon a time, there was a little girl");
                float[] a = ForwardPass.of(llama2c).lastLogits(prompt);
                float[] b = ForwardPass.of(hf).lastLogits(prompt);
                assertArrayEquals(a, b, 1e-4f);
                // the permutation matters: without it the logits differ
                float[] qAdjacent = llama2c.weights().base().layer(0).wQ().toFloatArray();
                float[] qHalf = hf.weights().base().layer(0).wQ().toFloatArray();
                assertTrue(maxAbsDiff(qAdjacent, qHalf) > 1e-3, "q/k rows were not permuted");
            }
        }
    }

    @Test
    void truncatedOrInconsistentFilesAreRejectedWithAClearMessage() throws IOException {
        Path bad = temp.resolve("bad.safetensors");
        Files.write(bad, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        IOException e = assertThrows(IOException.class, () -> new SafetensorsReader(bad));
        assertTrue(e.getMessage().contains("not a safetensors file"), e.getMessage());

        Path noWeights = temp.resolve("empty-hf");
        Files.createDirectories(noWeights);
        Files.writeString(noWeights.resolve("config.json"), "{\"model_type\":\"llama\"}");
        Exception missing = assertThrows(Exception.class,
                () -> ModelLoader.load("x", noWeights, TestModels.root()));
        assertTrue(missing.getMessage().contains("hidden_size") || missing.getMessage().contains("safetensors"),
                missing.getMessage());
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
