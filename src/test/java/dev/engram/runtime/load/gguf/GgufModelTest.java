package dev.engram.runtime.load.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.RopeLayout;
import dev.engram.runtime.load.Matrices;
import dev.engram.runtime.load.ModelLoader;
import dev.engram.support.GgufWriter;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stories260K written as a llama.cpp-style GGUF (adjacent q/k rows, [out, in] matrices) is the same model. */
class GgufModelTest {
    @TempDir
    Path temp;

    @Test
    void stories260KAsGgufGivesTheLlama2cLogits() throws IOException {
        try (Model llama2c = TestModels.stories260K()) {
            Path file = temp.resolve("stories260K.gguf");
            writeGguf(llama2c, file);
            try (Model gguf = ModelLoader.load("stories-gguf", file, TestModels.root())) {
                assertEquals(llama2c.config(), gguf.config());
                assertEquals(RopeLayout.ADJACENT, gguf.config().ropeLayout());
                int[] prompt = llama2c.tokenizer().encodePrompt("Lily and Ben went to the park");
                assertArrayEquals(ForwardPass.of(llama2c).lastLogits(prompt), ForwardPass.of(gguf).lastLogits(prompt),
                        1e-5f);
            }
        }
    }

    @Test
    void otherArchitecturesAreRejectedWithAClearMessage() throws IOException {
        Path file = temp.resolve("gpt2.gguf");
        new GgufWriter().putString("general.architecture", "gpt2").write(file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelLoader.load("x", file, TestModels.root()));
        assertTrue(e.getMessage().contains("'gpt2' is not supported"), e.getMessage());
    }

    /** The GGUF that llama.cpp's converter would write for these weights (F32, no tokenizer metadata). */
    static void writeGguf(Model model, Path file) throws IOException {
        ModelConfig c = model.config();
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUInt32("llama.block_count", c.nLayers())
                .putUInt32("llama.context_length", c.maxSeqLen())
                .putUInt32("llama.embedding_length", c.dModel())
                .putUInt32("llama.feed_forward_length", c.dFfn())
                .putUInt32("llama.attention.head_count", c.nHeads())
                .putUInt32("llama.attention.head_count_kv", c.nKvHeads())
                .putUInt32("llama.vocab_size", c.vocabSize())
                .putUInt32("llama.rope.dimension_count", c.headDim())
                .putFloat32("llama.rope.freq_base", (float) c.ropeTheta())
                .putFloat32("llama.attention.layer_norm_rms_epsilon", (float) c.normEps());
        w.f32("token_embd.weight", model.weights().base().tokenEmbedding().toFloatArray(), c.dModel(), c.vocabSize());
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = model.weights().base().layer(l);
            String b = "blk." + l + ".";
            w.f32(b + "attn_norm.weight", lw.attnNormWeight().toFloatArray(), c.dModel());
            linear(w, b + "attn_q.weight", lw.wQ());
            linear(w, b + "attn_k.weight", lw.wK());
            linear(w, b + "attn_v.weight", lw.wV());
            linear(w, b + "attn_output.weight", lw.wO());
            w.f32(b + "ffn_norm.weight", lw.ffnNormWeight().toFloatArray(), c.dModel());
            linear(w, b + "ffn_gate.weight", lw.wGate());
            linear(w, b + "ffn_up.weight", lw.wUp());
            linear(w, b + "ffn_down.weight", lw.wDown());
        }
        w.f32("output_norm.weight", model.weights().base().finalNormWeight().toFloatArray(), c.dModel());
        w.write(file);
    }

    /** Our [in, out] matrix as ggml's dims [in, out] (row-major [out, in]). */
    private static void linear(GgufWriter w, String name, NDArray inOut) {
        int in = (int) inOut.getShape().get(0);
        int out = (int) inOut.getShape().get(1);
        w.f32(name, Matrices.transpose(inOut.toFloatArray(), in, out), in, out);
    }
}
