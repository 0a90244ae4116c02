package dev.engram.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * All parameters of a model, in the runtime's canonical [in, out] layout, owned by one NDManager.
 *
 * @param manager            owns every array below; closing the weights closes it
 * @param tokenEmbedding     W_E [V, d]
 * @param positionEmbedding  W_pos [n_ctx, d] (GPT-2), else null
 * @param layers             one entry per block
 * @param finalNormWeight    γ_f
 * @param finalNormBias      β_f (GPT-2), else null
 * @param unembedding        W_U [d, V]; a transposed view of W_E when the embeddings are tied
 */
public record ModelWeights(
        NDManager manager,
        NDArray tokenEmbedding,
        NDArray positionEmbedding,
        List<LayerWeights> layers,
        NDArray finalNormWeight,
        NDArray finalNormBias,
        NDArray unembedding) implements AutoCloseable {

    public LayerWeights layer(int l) {
        return layers.get(l);
    }

    @Override
    public void close() {
        manager.close();
    }
}
