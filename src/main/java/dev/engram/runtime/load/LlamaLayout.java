package dev.engram.runtime.load;

import static dev.engram.runtime.load.LlamaTensorNames.at;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelFamily;
import dev.engram.runtime.ModelWeights;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Reads the weights of a Llama-family checkpoint (HF or GGUF naming) into the runtime's [in, out] layout. */
public final class LlamaLayout {
    private LlamaLayout() {
    }

    public static ModelWeights load(TensorSource source, ModelConfig c, NDManager manager, LlamaTensorNames n,
            WeightStorage storage) throws IOException {
        try (TensorReader r = new TensorReader(source, manager, storage)) {
            return read(r, c, manager, n);
        }
    }

    private static ModelWeights read(TensorReader r, ModelConfig c, NDManager manager, LlamaTensorNames n)
            throws IOException {
        int d = c.dModel();
        NDArray embedding = r.asIs(n.embedding(), c.vocabSize(), d);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(new LayerWeights(
                    gain(r.asIs(at(n.attnNorm(), l), d), c), null,
                    r.transposed(at(n.q(), l), c.qDim(), d),
                    r.transposed(at(n.k(), l), c.kvDim(), d),
                    r.transposed(at(n.v(), l), c.kvDim(), d),
                    r.optional(at(n.qBias(), l), c.qDim()),
                    r.optional(at(n.kBias(), l), c.kvDim()),
                    r.optional(at(n.vBias(), l), c.kvDim()),
                    r.transposed(at(n.o(), l), d, c.qDim()),
                    r.optional(at(n.oBias(), l), d),
                    gain(r.asIs(at(n.ffnNorm(), l), d), c), null,
                    r.transposed(at(n.gate(), l), c.dFfn(), d),
                    r.transposed(at(n.up(), l), c.dFfn(), d), null,
                    r.transposed(at(n.down(), l), d, c.dFfn()), null));
        }
        NDArray unembedding = c.tiedEmbeddings() || !r.has(n.output())
                ? embedding.transpose()
                : r.transposed(n.output(), c.vocabSize(), d);
        return new ModelWeights(manager, embedding, null, layers, gain(r.asIs(n.finalNorm(), d), c), null,
                unembedding);
    }

    /** The gain γ = offset + w that the runtime holds for a stored norm weight w ({@link ModelFamily#normGainOffset}). */
    private static NDArray gain(NDArray stored, ModelConfig c) {
        float offset = c.family().normGainOffset();
        if (offset == 0) {
            return stored;
        }
        NDArray gain = stored.add(offset);
        stored.close();
        return gain;
    }
}
