package dev.engram.runtime;

/**
 * What sets one transformer family apart from the others, as data and small strategies. This is the one place that
 * says it: the forward pass, attribution, editing and export read these fields and never ask which family a model is.
 * Each family is one file in {@code dev.engram.runtime.family}; the loaders map file formats onto them.
 *
 * @param name             the family's name as ListModels reports it (GPT2, LLAMA, GEMMA)
 * @param norm             LayerNorm (centred, with a bias β) or RMSNorm
 * @param normGainOffset   the stored norm weight w is read as the gain γ = offset + w (Gemma: 1, its "(1 + w)" norm);
 *                         the runtime holds γ, the loaders add the offset and export takes it off again
 * @param feedForward      F(x) = W_down·m, m the neuron coefficients: gated or not, and the non-linearity
 * @param positions        learned position embeddings added to h^0, or rotary embeddings of q and k
 * @param scaledEmbeddings h^0 = sqrt(d)·W_E[t] (Gemma) instead of W_E[t]; the tied unembedding stays unscaled
 * @param prependsBos      its tokenizer starts every prompt with BOS
 */
public record ModelFamily(String name, NormKind norm, float normGainOffset, FeedForward feedForward,
        PositionEncoding positions, boolean scaledEmbeddings, boolean prependsBos) {

    /** The factor of h^0 = factor·W_E[t]: sqrt(d) rounded to float32 for scaled embeddings (as HF computes it), 1 otherwise. */
    public float embeddingScale(int dModel) {
        return scaledEmbeddings ? (float) Math.sqrt(dModel) : 1f;
    }

    @Override
    public String toString() {
        return name;
    }
}
