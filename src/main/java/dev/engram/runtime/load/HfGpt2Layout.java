package dev.engram.runtime.load;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Precision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Tensor names and layouts of HF GPT2LMHeadModel checkpoints. Conv1D weights are already [in, out]; c_attn holds
 * q, k and v side by side as [d, 3d].
 */
final class HfGpt2Layout {
    private HfGpt2Layout() {
    }

    static ModelWeights load(TensorSource source, ModelConfig c, NDManager manager, WeightStorage storage)
            throws IOException {
        try (TensorReader r = new TensorReader(source, manager, storage)) {
            return read(r, source, c, manager);
        }
    }

    private static ModelWeights read(TensorReader r, TensorSource source, ModelConfig c, NDManager manager)
            throws IOException {
        String p = source.has("transformer.wte.weight") ? "transformer." : "";
        int d = c.dModel();
        NDArray embedding = r.asIs(p + "wte.weight", c.vocabSize(), d);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            String h = p + "h." + l + ".";
            NDArray[] qkv = r.columnBlocks(h + "attn.c_attn.weight", 3, d, 3L * d);
            NDArray[] qkvBias = r.columnBlocks(h + "attn.c_attn.bias", 3, 3L * d);
            layers.add(new LayerWeights(
                    r.asIs(h + "ln_1.weight", d), r.asIs(h + "ln_1.bias", d),
                    qkv[0], qkv[1], qkv[2], qkvBias[0], qkvBias[1], qkvBias[2],
                    r.asIs(h + "attn.c_proj.weight", d, d), r.asIs(h + "attn.c_proj.bias", d),
                    r.asIs(h + "ln_2.weight", d), r.asIs(h + "ln_2.bias", d),
                    null, r.asIs(h + "mlp.c_fc.weight", d, c.dFfn()), r.asIs(h + "mlp.c_fc.bias", c.dFfn()),
                    r.asIs(h + "mlp.c_proj.weight", c.dFfn(), d), r.asIs(h + "mlp.c_proj.bias", d)));
        }
        return new ModelWeights(manager, embedding, r.asIs(p + "wpe.weight", c.maxSeqLen(), d), layers,
                r.asIs(p + "ln_f.weight", d), r.asIs(p + "ln_f.bias", d), embedding.transpose());
    }

    static void export(ModelWeights w, ModelConfig c, SafetensorsWriter out) {
        int d = c.dModel();
        out.put("wte.weight", new long[] {c.vocabSize(), d}, () -> Precision.floats(w.tokenEmbedding()));
        out.put("wpe.weight", new long[] {c.maxSeqLen(), d}, () -> Precision.floats(w.positionEmbedding()));
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layer(l);
            String h = "h." + l + ".";
            put(out, h + "ln_1.weight", lw.attnNormWeight());
            put(out, h + "ln_1.bias", lw.attnNormBias());
            out.put(h + "attn.c_attn.weight", new long[] {d, 3L * d}, () -> joinColumns(d, lw.wQ(), lw.wK(), lw.wV()));
            out.put(h + "attn.c_attn.bias", new long[] {3L * d}, () -> joinColumns(1, lw.bQ(), lw.bK(), lw.bV()));
            put(out, h + "attn.c_proj.weight", lw.wO());
            put(out, h + "attn.c_proj.bias", lw.bO());
            put(out, h + "ln_2.weight", lw.ffnNormWeight());
            put(out, h + "ln_2.bias", lw.ffnNormBias());
            put(out, h + "mlp.c_fc.weight", lw.wUp());
            put(out, h + "mlp.c_fc.bias", lw.bUp());
            put(out, h + "mlp.c_proj.weight", lw.wDown());
            put(out, h + "mlp.c_proj.bias", lw.bDown());
        }
        put(out, "ln_f.weight", w.finalNormWeight());
        put(out, "ln_f.bias", w.finalNormBias());
    }

    private static void put(SafetensorsWriter out, String name, NDArray array) {
        out.put(name, array.getShape().getShape(), () -> Precision.floats(array));
    }

    /** [rows, 3·w] → three [rows, w] arrays (one row for a bias). */

    private static float[] joinColumns(int rows, NDArray... parts) {
        int width = (int) (parts[0].size() / rows);
        float[] out = new float[rows * width * parts.length];
        for (int part = 0; part < parts.length; part++) {
            float[] data = Precision.floats(parts[part]);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(data, r * width, out, r * width * parts.length + part * width, width);
            }
        }
        return out;
    }
}
