package dev.engram.runtime.load;

import static dev.engram.runtime.load.LlamaTensorNames.at;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Precision;
import dev.engram.runtime.RopeLayout;

/** Export to HF LlamaForCausalLM / Qwen2ForCausalLM checkpoints (nn.Linear weights are [out, in]); reading is {@link LlamaLayout}. */
final class HfLlamaLayout {
    private static final LlamaTensorNames N = LlamaTensorNames.HF;

    private HfLlamaLayout() {
    }

    /** The tensors in HF's layout; q/k rows of an adjacent-pair model are permuted to rotate-half. */
    static void export(ModelWeights w, ModelConfig c, SafetensorsWriter out) {
        int d = c.dModel();
        out.put(N.embedding(), new long[] {c.vocabSize(), d}, () -> Precision.floats(w.tokenEmbedding()));
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layer(l);
            out.put(at(N.attnNorm(), l), new long[] {d}, () -> stored(lw.attnNormWeight(), c));
            out.put(at(N.q(), l), new long[] {c.qDim(), d}, () -> rope(c, linear(lw.wQ()), c.nHeads(), d));
            out.put(at(N.k(), l), new long[] {c.kvDim(), d}, () -> rope(c, linear(lw.wK()), c.nKvHeads(), d));
            out.put(at(N.v(), l), new long[] {c.kvDim(), d}, () -> linear(lw.wV()));
            if (lw.bQ() != null) {
                out.put(at(N.qBias(), l), new long[] {c.qDim()}, () -> rope(c, lw.bQ().toFloatArray(), c.nHeads(), 1));
                out.put(at(N.kBias(), l), new long[] {c.kvDim()}, () -> rope(c, lw.bK().toFloatArray(), c.nKvHeads(), 1));
                out.put(at(N.vBias(), l), new long[] {c.kvDim()}, () -> lw.bV().toFloatArray());
            }
            out.put(at(N.o(), l), new long[] {d, c.qDim()}, () -> linear(lw.wO()));
            out.put(at(N.ffnNorm(), l), new long[] {d}, () -> stored(lw.ffnNormWeight(), c));
            out.put(at(N.gate(), l), new long[] {c.dFfn(), d}, () -> linear(lw.wGate()));
            out.put(at(N.up(), l), new long[] {c.dFfn(), d}, () -> linear(lw.wUp()));
            out.put(at(N.down(), l), new long[] {d, c.dFfn()}, () -> linear(lw.wDown()));
        }
        out.put(N.finalNorm(), new long[] {d}, () -> stored(w.finalNormWeight(), c));
        if (!c.tiedEmbeddings()) {
            out.put(N.output(), new long[] {c.vocabSize(), d}, () -> linear(w.unembedding()));
        }
    }

    /** The stored norm weight w = γ − offset of a gain γ ({@link dev.engram.runtime.ModelFamily#normGainOffset}). */
    private static float[] stored(NDArray gain, ModelConfig c) {
        float[] w = gain.toFloatArray();
        float offset = c.family().normGainOffset();
        for (int i = 0; i < w.length; i++) {
            w[i] -= offset;
        }
        return w;
    }

    /** Our [in, out] matrix as nn.Linear's [out, in]. */
    private static float[] linear(NDArray inOut) {
        return Matrices.transpose(Precision.floats(inOut), (int) inOut.getShape().get(0), (int) inOut.getShape().get(1));
    }

    private static float[] rope(ModelConfig c, float[] outIn, int heads, int in) {
        return c.ropeLayout() == RopeLayout.ADJACENT
                ? Matrices.adjacentToHalfRows(outIn, heads, c.headDim(), in)
                : outIn;
    }
}
