package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Precision;
import dev.engram.runtime.TorchOwned;

/** The residual stream's start, h^0 ({@code hook_embed} plus {@code hook_pos_embed}). */
final class Embedding {
    private Embedding() {
    }

    /** h^0 = c·W_E[tokens] (+ W_pos[positions] with learned positions); c = sqrt(d) for scaled embeddings, else 1. */
    static NDArray of(ModelConfig config, ModelWeights base, int[] tokens, int[] positions) {
        NDList rows = new NDList(tokens.length);
        for (int token : tokens) {
            rows.add(base.tokenEmbedding().get(token));
        }
        NDArray h0 = Precision.widened(NDArrays.stack(rows));
        if (config.family().scaledEmbeddings()) {
            h0 = h0.mul(TorchOwned.scalar(config.family().embeddingScale(config.dModel())));
        }
        if (base.positionEmbedding() != null) {
            long[] at = new long[positions.length];
            for (int i = 0; i < at.length; i++) {
                at[i] = positions[i];
            }
            h0 = h0.add(Precision.widened(base.positionEmbedding().get(h0.getManager().create(at))));
        }
        return h0;
    }
}
