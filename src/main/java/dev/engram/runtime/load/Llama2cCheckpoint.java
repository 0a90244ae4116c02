package dev.engram.runtime.load;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.RopeLayout;
import dev.engram.runtime.family.LlamaFamily;
import dev.engram.runtime.tokenizer.Llama2cTokenizer;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A llama2.c checkpoint in the legacy (version 0) layout: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len; a negative vocab_size means an untied classifier), then float32 tensors stacked over layers,
 * matrices [out, in]. Rotary pairs are adjacent; RMSNorm ε = 1e-5; θ = 10000.
 */
public final class Llama2cCheckpoint {
    private static final int HEADER_INTS = 7;

    private Llama2cCheckpoint() {
    }

    public static Model load(String name, Path checkpoint, Path tokenizerFile, NDManager parent) throws IOException {
        try (FileChannel channel = FileChannel.open(checkpoint, StandardOpenOption.READ)) {
            var map = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
            int dim = map.getInt();
            int hidden = map.getInt();
            int layers = map.getInt();
            int heads = map.getInt();
            int kvHeads = map.getInt();
            int vocab = map.getInt();
            int seqLen = map.getInt();
            boolean tied = vocab > 0;
            vocab = Math.abs(vocab);
            ModelConfig c = new ModelConfig(LlamaFamily.FAMILY, dim, layers, heads, kvHeads, dim / heads, hidden,
                    vocab, seqLen, 1e-5, 10000, RopeLayout.ADJACENT, tied);
            FloatBuffer f = map.position(HEADER_INTS * 4).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            NDManager manager = parent.newSubManager();
            try {
                Model model = new Model(name, c, read(f, c, manager), Llama2cTokenizer.load(tokenizerFile, vocab));
                return model;
            } catch (RuntimeException | IOException e) {
                manager.close();
                throw e;
            }
        }
    }

    private static ModelWeights read(FloatBuffer f, ModelConfig c, NDManager m) throws IOException {
        int d = c.dModel();
        int layers = c.nLayers();
        float[] embedding = next(f, c.vocabSize() * d);
        float[][] attnNorm = perLayer(f, layers, d);
        float[][] wq = perLayer(f, layers, c.qDim() * d);
        float[][] wk = perLayer(f, layers, c.kvDim() * d);
        float[][] wv = perLayer(f, layers, c.kvDim() * d);
        float[][] wo = perLayer(f, layers, d * c.qDim());
        float[][] ffnNorm = perLayer(f, layers, d);
        float[][] w1 = perLayer(f, layers, c.dFfn() * d);
        float[][] w2 = perLayer(f, layers, d * c.dFfn());
        float[][] w3 = perLayer(f, layers, c.dFfn() * d);
        float[] finalNorm = next(f, d);
        next(f, c.maxSeqLen() * c.headDim()); // freq_cis_real and freq_cis_imag: recomputed by the runtime
        List<LayerWeights> blocks = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            blocks.add(new LayerWeights(
                    vec(m, attnNorm[l]), null,
                    inOut(m, wq[l], c.qDim(), d), inOut(m, wk[l], c.kvDim(), d), inOut(m, wv[l], c.kvDim(), d),
                    null, null, null,
                    inOut(m, wo[l], d, c.qDim()), null,
                    vec(m, ffnNorm[l]), null,
                    inOut(m, w1[l], c.dFfn(), d), inOut(m, w3[l], c.dFfn(), d), null,
                    inOut(m, w2[l], d, c.dFfn()), null));
        }
        NDArray tokenEmbedding = m.create(embedding, new Shape(c.vocabSize(), d));
        NDArray unembedding = c.tiedEmbeddings()
                ? tokenEmbedding.transpose()
                : inOut(m, next(f, c.vocabSize() * d), c.vocabSize(), d);
        return new ModelWeights(m, tokenEmbedding, null, blocks, vec(m, finalNorm), null, unembedding);
    }

    private static float[] next(FloatBuffer f, int count) throws IOException {
        if (f.remaining() < count) {
            throw new IOException("llama2.c checkpoint is truncated");
        }
        float[] out = new float[count];
        f.get(out);
        return out;
    }

    private static float[][] perLayer(FloatBuffer f, int layers, int size) throws IOException {
        float[][] out = new float[layers][];
        for (int l = 0; l < layers; l++) {
            out[l] = next(f, size);
        }
        return out;
    }

    private static NDArray vec(NDManager m, float[] v) {
        return m.create(v, new Shape(v.length));
    }

    /** A stored [out, in] matrix as the runtime's [in, out]. */
    private static NDArray inOut(NDManager m, float[] w, int out, int in) {
        return m.create(Matrices.transpose(w, out, in), new Shape(in, out));
    }
}
