package dev.engram.support;

import dev.engram.runtime.family.Gpt2Family;
import dev.engram.runtime.family.LlamaFamily;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.RopeLayout;
import dev.engram.runtime.load.Dtype;
import dev.engram.runtime.load.HfCheckpoint;
import dev.engram.runtime.load.ModelLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded random checkpoints written in the Hugging Face layout. Every weight is k/1024 with |k| ≤ 255, so F32, F16
 * and BF16 files hold exactly the same values.
 */
public final class SyntheticModels {
    private SyntheticModels() {
    }

    /** GPT-2 shaped, with the real GPT-2 vocabulary (50,257) so the real tokenizer fits. */
    public static ModelConfig gpt2(int d, int layers, int heads) {
        return new ModelConfig(Gpt2Family.FAMILY, d, layers, heads, heads, d / heads, 4 * d, 50257, 128, 1e-5, 0,
                RopeLayout.HALF, true);
    }

    /** Llama shaped with grouped-query attention (heads / kvHeads query heads per key/value head). */
    public static ModelConfig llama(int d, int layers, int heads, int kvHeads, int vocab, boolean tied) {
        return new ModelConfig(LlamaFamily.FAMILY, d, layers, heads, kvHeads, d / heads, 3 * d, vocab, 128, 1e-5,
                10000, RopeLayout.HALF, tied);
    }

    /**
     * Gemma shaped: GeGLU, (1 + w) RMSNorm, sqrt(d)-scaled embeddings tied to the unembedding, and a head width
     * that is not d / heads (as in Gemma's 256-wide heads), with {@code kvHeads} key/value heads.
     */
    public static ModelConfig gemma(int d, int layers, int heads, int kvHeads, int headDim, int vocab) {
        return new ModelConfig(dev.engram.runtime.family.GemmaFamily.FAMILY, d, layers, heads, kvHeads, headDim, 3 * d,
                vocab, 128, 1e-6, 10000, RopeLayout.HALF, true);
    }

    /** A model with random weights, held in memory (no tokenizer). */
    public static Model random(String name, ModelConfig c, boolean qkvBias, long seed, NDManager parent) {
        Random rng = new Random(seed);
        NDManager m = parent.newSubManager();
        int d = c.dModel();
        // GPT-2-shaped families (LayerNorm, learned positions) have biases everywhere; the others at most on q, k, v
        boolean gpt2 = c.family().norm().centres();
        boolean gated = c.family().feedForward().gated();
        boolean positions = c.family().positions() == dev.engram.runtime.PositionEncoding.LEARNED;
        boolean bias = gpt2 || qkvBias;
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(new LayerWeights(
                    gamma(m, rng, d), gpt2 ? rand(m, rng, d) : null,
                    rand(m, rng, d, c.qDim()), rand(m, rng, d, c.kvDim()), rand(m, rng, d, c.kvDim()),
                    bias ? rand(m, rng, c.qDim()) : null, bias ? rand(m, rng, c.kvDim()) : null,
                    bias ? rand(m, rng, c.kvDim()) : null,
                    rand(m, rng, c.qDim(), d), gpt2 ? rand(m, rng, d) : null,
                    gamma(m, rng, d), gpt2 ? rand(m, rng, d) : null,
                    gated ? rand(m, rng, d, c.dFfn()) : null, rand(m, rng, d, c.dFfn()),
                    gpt2 ? rand(m, rng, c.dFfn()) : null,
                    rand(m, rng, c.dFfn(), d), gpt2 ? rand(m, rng, d) : null));
        }
        NDArray embedding = rand(m, rng, c.vocabSize(), d);
        NDArray unembedding = c.tiedEmbeddings() ? embedding.transpose() : rand(m, rng, d, c.vocabSize());
        ModelWeights w = new ModelWeights(m, embedding, positions ? rand(m, rng, c.maxSeqLen(), d) : null, layers,
                gamma(m, rng, d), gpt2 ? rand(m, rng, d) : null, unembedding);
        return new Model(name, c, w, null);
    }

    /** Writes a random model as an HF checkpoint (with {@code tokenizerJson} copied in, if given) and loads it back. */
    public static Model writeAndLoad(Path dir, Model model, Dtype dtype, int shards, Path tokenizerJson)
            throws IOException {
        HfCheckpoint.save(model, dir, dtype, shards);
        if (tokenizerJson != null) {
            Files.copy(tokenizerJson, dir.resolve(HfCheckpoint.TOKENIZER_FILE), StandardCopyOption.REPLACE_EXISTING);
        }
        return ModelLoader.load(model.name(), dir, TestModels.root());
    }

    /** A seeded GPT-2 checkpoint with the real GPT-2 tokenizer, written in the HF layout under {@code dir} and loaded. */
    public static Model gpt2Checkpoint(Path dir, String name, int d, int layers, int heads, long seed)
            throws IOException {
        return writeAndLoad(dir, random(name, gpt2(d, layers, heads), false, seed, TestModels.root()), Dtype.F32, 1,
                TestModels.gpt2TokenizerJson());
    }

    /** A seeded Llama-family checkpoint (no tokenizer), written in the HF layout under {@code dir} and loaded. */
    public static Model llamaCheckpoint(Path dir, String name, ModelConfig config, boolean qkvBias, long seed)
            throws IOException {
        return writeAndLoad(dir, random(name, config, qkvBias, seed, TestModels.root()), Dtype.F32, 1, null);
    }

    private static NDArray rand(NDManager m, Random rng, long... shape) {
        float[] v = new float[(int) new Shape(shape).size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = quantise(rng.nextGaussian() * 0.08);
        }
        return m.create(v, new Shape(shape));
    }

    private static NDArray gamma(NDManager m, Random rng, int d) {
        float[] v = new float[d];
        for (int i = 0; i < d; i++) {
            // (128 + k) / 128 with |k| ≤ 16: a gain in [0.875, 1.125] with at most 8 significant bits
            v[i] = (128 + Math.max(-16, Math.min(16, Math.round(rng.nextGaussian() * 6)))) / 128f;
        }
        return m.create(v, new Shape(d));
    }

    /** Round to k/1024 with |k| ≤ 255: at most 8 significant bits, exact in F16 and BF16. */
    private static float quantise(double x) {
        long k = Math.max(-255, Math.min(255, Math.round(x * 1024)));
        return k / 1024f;
    }

    /** n seeded Gaussian values with standard deviation 0.3 (test vectors for deltas and inputs). */
    public static float[] gaussian(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 0.3f;
        }
        return v;
    }
}
