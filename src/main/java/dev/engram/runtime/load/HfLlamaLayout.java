package dev.engram.runtime.load;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.RopeLayout;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Tensor names and layouts of HF LlamaForCausalLM / Qwen2ForCausalLM checkpoints (nn.Linear weights are [out, in]). */
final class HfLlamaLayout {
    private HfLlamaLayout() {
    }

    static String layer(int l, String rest) {
        return "model.layers." + l + "." + rest;
    }

    static ModelWeights load(TensorSource source, ModelConfig c, NDManager manager) throws IOException {
        TensorReader r = new TensorReader(source, manager);
        int d = c.dModel();
        NDArray embedding = r.asIs("model.embed_tokens.weight", c.vocabSize(), d);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(new LayerWeights(
                    r.asIs(layer(l, "input_layernorm.weight"), d), null,
                    r.transposed(layer(l, "self_attn.q_proj.weight"), c.qDim(), d),
                    r.transposed(layer(l, "self_attn.k_proj.weight"), c.kvDim(), d),
                    r.transposed(layer(l, "self_attn.v_proj.weight"), c.kvDim(), d),
                    r.optional(layer(l, "self_attn.q_proj.bias"), c.qDim()),
                    r.optional(layer(l, "self_attn.k_proj.bias"), c.kvDim()),
                    r.optional(layer(l, "self_attn.v_proj.bias"), c.kvDim()),
                    r.transposed(layer(l, "self_attn.o_proj.weight"), d, c.qDim()),
                    r.optional(layer(l, "self_attn.o_proj.bias"), d),
                    r.asIs(layer(l, "post_attention_layernorm.weight"), d), null,
                    r.transposed(layer(l, "mlp.gate_proj.weight"), c.dFfn(), d),
                    r.transposed(layer(l, "mlp.up_proj.weight"), c.dFfn(), d), null,
                    r.transposed(layer(l, "mlp.down_proj.weight"), d, c.dFfn()), null));
        }
        NDArray unembedding = c.tiedEmbeddings() || !r.has("lm_head.weight")
                ? embedding.transpose()
                : r.transposed("lm_head.weight", c.vocabSize(), d);
        return new ModelWeights(manager, embedding, null, layers, r.asIs("model.norm.weight", d), null, unembedding);
    }

    /** The tensors in HF's layout; q/k rows of an adjacent-pair model are permuted to rotate-half. */
    static void export(ModelWeights w, ModelConfig c, SafetensorsWriter out) {
        int d = c.dModel();
        out.put("model.embed_tokens.weight", new long[] {c.vocabSize(), d}, w.tokenEmbedding().toFloatArray());
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layer(l);
            out.put(layer(l, "input_layernorm.weight"), new long[] {d}, lw.attnNormWeight().toFloatArray());
            out.put(layer(l, "self_attn.q_proj.weight"), new long[] {c.qDim(), d}, rope(c, linear(lw.wQ()), c.nHeads(), d));
            out.put(layer(l, "self_attn.k_proj.weight"), new long[] {c.kvDim(), d}, rope(c, linear(lw.wK()), c.nKvHeads(), d));
            out.put(layer(l, "self_attn.v_proj.weight"), new long[] {c.kvDim(), d}, linear(lw.wV()));
            if (lw.bQ() != null) {
                out.put(layer(l, "self_attn.q_proj.bias"), new long[] {c.qDim()}, rope(c, lw.bQ().toFloatArray(), c.nHeads(), 1));
                out.put(layer(l, "self_attn.k_proj.bias"), new long[] {c.kvDim()}, rope(c, lw.bK().toFloatArray(), c.nKvHeads(), 1));
                out.put(layer(l, "self_attn.v_proj.bias"), new long[] {c.kvDim()}, lw.bV().toFloatArray());
            }
            out.put(layer(l, "self_attn.o_proj.weight"), new long[] {d, c.qDim()}, linear(lw.wO()));
            out.put(layer(l, "post_attention_layernorm.weight"), new long[] {d}, lw.ffnNormWeight().toFloatArray());
            out.put(layer(l, "mlp.gate_proj.weight"), new long[] {c.dFfn(), d}, linear(lw.wGate()));
            out.put(layer(l, "mlp.up_proj.weight"), new long[] {c.dFfn(), d}, linear(lw.wUp()));
            out.put(layer(l, "mlp.down_proj.weight"), new long[] {d, c.dFfn()}, linear(lw.wDown()));
        }
        out.put("model.norm.weight", new long[] {d}, w.finalNormWeight().toFloatArray());
        if (!c.tiedEmbeddings()) {
            out.put("lm_head.weight", new long[] {c.vocabSize(), d}, linear(w.unembedding()));
        }
    }

    /** Our [in, out] matrix as nn.Linear's [out, in]. */
    private static float[] linear(NDArray inOut) {
        return Matrices.transpose(inOut.toFloatArray(), (int) inOut.getShape().get(0), (int) inOut.getShape().get(1));
    }

    private static float[] rope(ModelConfig c, float[] outIn, int heads, int in) {
        return c.ropeLayout() == RopeLayout.ADJACENT
                ? Matrices.adjacentToHalfRows(outIn, heads, c.headDim(), in)
                : outIn;
    }
}
