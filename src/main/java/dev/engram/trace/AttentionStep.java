package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Param;
import dev.engram.runtime.TorchOwned;

/**
 * A block's attention A^l over the normed residual, with the family's position encoding, grouped-query heads, an
 * optional KV cache and the pass's attention scalings.
 */
final class AttentionStep {
    /** Queries per attention block when the pattern is not kept: scores are [H, block, T], never [H, T, T]. */
    static final int QUERY_BLOCK = 256;

    private final ModelConfig config;
    private final Projections projections;
    private final Interventions interventions;

    AttentionStep(ModelConfig config, Projections projections, Interventions interventions) {
        this.config = config;
        this.projections = projections;
        this.interventions = interventions;
    }

    /** A block's attention: its output, its pattern (null when not kept), values [H, T, dh], keys [T, n_kv, dh]. */
    record Attention(NDArray output, NDArray pattern, NDArray value, NDArray keys) {
    }

    /**
     * Head j: α^j = softmax(q^j·k^{g(j)ᵀ}/sqrt(d_head) + causal mask); z^j = α^j·val^{g(j)};
     * A = concat_j(z^j)·W_O + b_O. With a cache, the new queries also attend to the cached keys and values of the
     * earlier positions; the new ones are added to it when {@code grows}.
     */
    Attention run(int layer, LayerWeights w, NDArray a, NDArray mask, int seqLen, int[] positions, KvCache cache,
            boolean grows, boolean keepPattern) {
        int nH = config.nHeads();
        int nKv = config.nKvHeads();
        int dh = config.headDim();
        NDArray q = queries(layer, w, a, positions);
        NDArray k = projections.linear(a, layer, Param.ATTN_K, w.bK()).reshape(seqLen, nKv, dh);
        NDArray v = projections.linear(a, layer, Param.ATTN_V, w.bV()).reshape(seqLen, nKv, dh);
        k = config.family().positions().rotate(k, config, positions);
        if (cache != null && grows) {
            k = cache.append(layer, k, KvCache.Part.KEY);
            v = cache.append(layer, v, KvCache.Part.VALUE);
        } else if (cache != null) {
            k = cache.before(layer, k, KvCache.Part.KEY);
            v = cache.before(layer, v, KvCache.Part.VALUE);
        }
        NDArray qh = q.transpose(1, 0, 2);
        NDArray kh = byQueryHead(k).transpose(1, 0, 2);
        NDArray vh = byQueryHead(v).transpose(1, 0, 2);
        NDArray pattern = null;
        NDArray z;
        if (keepPattern || seqLen <= QUERY_BLOCK || interventions.scalesAttentionAt(layer) || interventions.trains()) {
            pattern = pattern(qh, kh, mask);
            z = interventions.scaleAttention(layer, pattern.matMul(vh), pattern, vh, config);
        } else {
            // blocks of queries: the same rows of the same softmax, without an [H, T, T] array; each block's scores
            // are freed before the next block's are made
            NDList blocks = new NDList();
            for (int from = 0; from < seqLen; from += QUERY_BLOCK) {
                int to = Math.min(seqLen, from + QUERY_BLOCK);
                String rows = from + ":" + to;
                try (NDScope block = new NDScope()) {
                    NDArray out = pattern(qh.get(":, " + rows + ", :"), kh, mask.get(rows + ", :")).matMul(vh);
                    NDScope.unregister(out);
                    blocks.add(out);
                }
            }
            z = NDArrays.concat(blocks, 1);
            blocks.close();
        }
        NDArray concat = z.transpose(1, 0, 2).reshape(seqLen, (long) nH * dh);
        return new Attention(projections.linear(concat, layer, Param.ATTN_O, w.bO()), pattern, vh, k);
    }

    /** q = N_1(h)·W_Q (+ b_Q), rotated at {@code positions} where the family rotates: [rows, H, d_head]. */
    NDArray queries(int layer, LayerWeights w, NDArray a, int[] positions) {
        NDArray q = projections.linear(a, layer, Param.ATTN_Q, w.bQ()).reshape(a.getShape().get(0), config.nHeads(),
                config.headDim());
        return config.family().positions().rotate(q, config, positions);
    }

    /** Key or value heads [T, n_kv, dh] as one per query head [T, H, dh]: g(j) = floor(j / group). */
    NDArray byQueryHead(NDArray kv) {
        return config.nKvHeads() < config.nHeads() ? kv.repeat(1, config.groupSize()) : kv;
    }

    /** α = softmax(q·kᵀ / sqrt(d_head) + M) for queries [H, Q, dh], keys [H, S, dh], mask [Q, S]: [H, Q, S]. */
    static NDArray pattern(NDArray qh, NDArray kh, NDArray mask) {
        NDArray scores = qh.matMul(kh.transpose(0, 2, 1)).div(TorchOwned.scalar((float) Math.sqrt(qh.getShape().get(2))));
        return (mask == null ? scores : scores.add(mask)).softmax(-1);
    }
}
