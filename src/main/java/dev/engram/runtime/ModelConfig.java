package dev.engram.runtime;

/**
 * The shape and hyper-parameters of one transformer, for both families.
 *
 * @param family         the family's description (norm, FFN, positions, embeddings)
 * @param dModel         residual width d
 * @param nLayers        number of blocks L
 * @param nHeads         query heads
 * @param nKvHeads       key/value heads (== nHeads without grouped-query attention)
 * @param headDim        d_head
 * @param dFfn           FFN width (number of FFN neurons per layer)
 * @param vocabSize      V
 * @param maxSeqLen      context length
 * @param normEps        epsilon of every LayerNorm / RMSNorm
 * @param ropeTheta      rotary base (rotary families only)
 * @param ropeLayout     which dimensions rotate together (rotary families only)
 * @param tiedEmbeddings whether W_U is the transposed token embedding
 */
public record ModelConfig(
        ModelFamily family,
        int dModel,
        int nLayers,
        int nHeads,
        int nKvHeads,
        int headDim,
        int dFfn,
        int vocabSize,
        int maxSeqLen,
        double normEps,
        double ropeTheta,
        RopeLayout ropeLayout,
        boolean tiedEmbeddings) {

    public ModelConfig {
        if (dModel <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || headDim <= 0 || dFfn <= 0
                || vocabSize <= 0 || maxSeqLen <= 0) {
            throw new IllegalArgumentException("every model dimension must be positive");
        }
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("n_heads " + nHeads + " is not a multiple of n_kv_heads " + nKvHeads);
        }
        if (family == null) {
            throw new IllegalArgumentException("a model needs a family");
        }
        if (family.positions() == PositionEncoding.ROTARY && headDim % 2 != 0) {
            throw new IllegalArgumentException("rotary embeddings need an even head_dim, got " + headDim);
        }
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return nHeads / nKvHeads;
    }

    /** g(j): the key/value head that query head j reads (method.md, "Neurons and their vectors"). */
    public int kvHeadOf(int queryHead) {
        return queryHead / groupSize();
    }

    public int qDim() {
        return nHeads * headDim;
    }

    public int kvDim() {
        return nKvHeads * headDim;
    }

    /**
     * Every weight of the model: embeddings, blocks (biases left out), norms, and the unembedding when untied.
     */
    public long parameterCount() {
        long d = dModel;
        long perLayer = d * qDim() + 2 * d * kvDim() + (long) qDim() * d
                + family.feedForward().matrixCount() * d * dFfn + 2 * d;
        return (long) vocabSize * d * (tiedEmbeddings ? 1 : 2) + nLayers * perLayer + d;
    }

    /** [in, out] of a block matrix in the runtime's layout (y = x · W). */
    public int[] matrixShape(Param param) {
        return switch (param) {
            case ATTN_Q -> new int[] {dModel, qDim()};
            case ATTN_K, ATTN_V -> new int[] {dModel, kvDim()};
            case ATTN_O -> new int[] {qDim(), dModel};
            case FFN_GATE, FFN_UP -> new int[] {dModel, dFfn};
            case FFN_DOWN -> new int[] {dFfn, dModel};
        };
    }
}
