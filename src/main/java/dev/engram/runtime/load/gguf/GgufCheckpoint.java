package dev.engram.runtime.load.gguf;

import ai.djl.ndarray.NDManager;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.RopeLayout;
import dev.engram.runtime.family.LlamaFamily;
import dev.engram.runtime.load.LlamaLayout;
import dev.engram.runtime.load.LlamaTensorNames;
import dev.engram.runtime.load.TensorSource;
import dev.engram.runtime.load.WeightStorage;
import dev.engram.runtime.tokenizer.HfTokenizer;
import dev.engram.runtime.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * A llama-architecture GGUF model: configuration from {@code llama.*} metadata, weights dequantized to float32 at
 * load, tokenizer rebuilt from {@code tokenizer.ggml.*}. llama.cpp stores q/k rows with adjacent rotary pairs, so the
 * model runs with {@link RopeLayout#ADJACENT}.
 */
public final class GgufCheckpoint {
    private GgufCheckpoint() {
    }

    public static boolean isGguf(Path path) {
        return path.getFileName().toString().endsWith(".gguf");
    }

    public static Model load(String name, Path file, NDManager parent) throws IOException {
        GgufFile gguf = new GgufFile(file);
        ModelConfig config = config(gguf);
        NDManager manager = parent.newSubManager();
        try {
            ModelWeights weights = LlamaLayout.load(new Source(gguf), config, manager, LlamaTensorNames.GGUF,
                    WeightStorage.F32); // every GGUF tensor is dequantised to F32 by its Source
            TextTokenizer tokenizer = GgufTokenizerJson.hasTokenizer(gguf)
                    ? HfTokenizer.fromJson(GgufTokenizerJson.build(gguf))
                    : null;
            return new Model(name, config, weights, tokenizer);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    static ModelConfig config(GgufFile g) {
        String arch = g.string("general.architecture");
        if (!arch.equals("llama")) {
            throw new IllegalArgumentException("GGUF architecture '" + arch + "' is not supported (llama)");
        }
        int d = (int) g.integer("llama.embedding_length");
        int heads = (int) g.integer("llama.attention.head_count");
        int kvHeads = g.has("llama.attention.head_count_kv") ? (int) g.integer("llama.attention.head_count_kv") : heads;
        int vocab = g.has("llama.vocab_size") ? (int) g.integer("llama.vocab_size")
                : g.list("tokenizer.ggml.tokens").size();
        int headDim = g.has("llama.attention.key_length") ? (int) g.integer("llama.attention.key_length") : d / heads;
        if (g.has("llama.rope.dimension_count") && g.integer("llama.rope.dimension_count") != headDim) {
            throw new IllegalArgumentException("partial rotary embeddings are not supported");
        }
        return new ModelConfig(LlamaFamily.FAMILY, d, (int) g.integer("llama.block_count"), heads, kvHeads, headDim,
                (int) g.integer("llama.feed_forward_length"), vocab, (int) g.integer("llama.context_length"),
                g.real("llama.attention.layer_norm_rms_epsilon", 1e-5), g.real("llama.rope.freq_base", 10000),
                RopeLayout.ADJACENT, !g.tensors().containsKey("output.weight"));
    }

    /** GGUF tensors as row-major float32: ggml dims [ne0, ne1] become shape [ne1, ne0]. */
    private record Source(GgufFile gguf) implements TensorSource {
        @Override
        public Set<String> names() {
            return gguf.tensors().keySet();
        }

        @Override
        public long[] shape(String name) {
            long[] dims = gguf.tensors().get(name).dims();
            long[] shape = new long[dims.length];
            for (int i = 0; i < dims.length; i++) {
                shape[i] = dims[dims.length - 1 - i];
            }
            return shape;
        }

        @Override
        public float[] read(String name) throws IOException {
            return gguf.readFloats(name);
        }
    }
}
