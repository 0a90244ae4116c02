package dev.engram.runtime.family;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.load.Dtype;
import dev.engram.runtime.load.HfCheckpoint;
import dev.engram.runtime.load.HfConfig;
import dev.engram.runtime.load.SafetensorsCheckpoint;
import dev.engram.support.LiteralForward;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A family that differs from Llama in three ways (GeGLU, (1 + w) RMSNorm, sqrt(d)-scaled embeddings), on a seeded
 * synthetic checkpoint written in the HF layout and read back, against the literal double-precision forward pass.
 */
class GemmaFamilyTest {
    private static final int[] TOKENS = {2, 17, 200, 5, 64, 9, 130};

    @TempDir
    Path temp;

    private Model gemmaCheckpoint() throws IOException {
        ModelConfig config = SyntheticModels.gemma(48, 3, 4, 1, 16, 211);
        return SyntheticModels.writeAndLoad(temp.resolve("gemma"),
                SyntheticModels.random("gemma-synthetic", config, false, 29, TestModels.root()), Dtype.F32, 1, null);
    }

    @Test
    void theForwardPassIsTheLiteralGemmaForward() throws IOException {
        try (Model gemma = gemmaCheckpoint()) {
            double[] expected = new LiteralForward(gemma, LiteralForward.GELU_TANH, Math.sqrt(48)).lastLogits(TOKENS);
            float[] actual = ForwardPass.of(gemma).lastLogits(TOKENS);
            for (int v = 0; v < expected.length; v++) {
                assertEquals(expected[v], actual[v], 1e-4, "logit " + v);
            }
        }
    }

    /** The reference itself is checked on a family the rest of the suite pins down (stories260K is tested on text). */
    @Test
    void theLiteralForwardAgreesWithTheEngineOnLlama() throws IOException {
        ModelConfig config = SyntheticModels.llama(48, 2, 6, 2, 211, false);
        try (Model llama = SyntheticModels.llamaCheckpoint(temp.resolve("llama"), "llama", config, false, 31)) {
            double[] expected = new LiteralForward(llama, LiteralForward.SILU, 1).lastLogits(TOKENS);
            float[] actual = ForwardPass.of(llama).lastLogits(TOKENS);
            for (int v = 0; v < expected.length; v++) {
                assertEquals(expected[v], actual[v], 1e-4, "logit " + v);
            }
        }
    }

    /** The file holds HF's weight w; the runtime's gain is 1 + w, and export writes w back. */
    @Test
    void theStoredNormWeightIsTheGainLessOne() throws IOException {
        try (Model gemma = gemmaCheckpoint()) {
            SafetensorsCheckpoint file = new SafetensorsCheckpoint(temp.resolve("gemma"));
            float[] stored = file.read("model.layers.1.post_attention_layernorm.weight");
            float[] gain = gemma.weights().base().layer(1).ffnNormWeight().toFloatArray();
            float[] finalStored = file.read("model.norm.weight");
            float[] finalGain = gemma.weights().base().finalNormWeight().toFloatArray();
            for (int i = 0; i < stored.length; i++) {
                assertEquals(gain[i], 1f + stored[i], 1e-7f);
                assertEquals(finalGain[i], 1f + finalStored[i], 1e-7f);
            }
            var json = new ObjectMapper().readTree(temp.resolve("gemma").resolve(HfCheckpoint.CONFIG_FILE).toFile());
            assertEquals("gemma", json.get("model_type").asText());
            assertEquals("gelu_pytorch_tanh", json.get("hidden_activation").asText());
            assertEquals(16, json.get("head_dim").asInt());
            assertEquals(gemma.config(), HfConfig.parse(json));
        }
    }

    @Test
    void aGemmaConfigWithAnotherActivationIsRefused() throws IOException {
        var json = new ObjectMapper().createObjectNode().put("model_type", "gemma").put("hidden_size", 48)
                .put("num_hidden_layers", 1).put("num_attention_heads", 4).put("intermediate_size", 96)
                .put("vocab_size", 211).put("hidden_activation", "silu");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfConfig.parse(json));
        assertTrue(e.getMessage().contains("activation silu"), e.getMessage());
        json.put("hidden_activation", "gelu_pytorch_tanh");
        assertEquals(GemmaFamily.FAMILY, HfConfig.parse(json).family());
    }

    /** Mistral's sliding window bounds the context the runtime serves; within it, attention is plain causal attention. */
    @Test
    void aSlidingWindowBoundsTheContext() {
        var json = new ObjectMapper().createObjectNode().put("model_type", "mistral").put("hidden_size", 48)
                .put("num_hidden_layers", 1).put("num_attention_heads", 4).put("intermediate_size", 96)
                .put("vocab_size", 211).put("max_position_embeddings", 32768).put("sliding_window", 4096);
        assertEquals(4096, HfConfig.parse(json).maxSeqLen());
        json.put("model_type", "qwen2").put("use_sliding_window", false);
        assertEquals(32768, HfConfig.parse(json).maxSeqLen());
    }
}
