package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.FeedForward;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.NativeMemory;
import dev.engram.runtime.EffectiveWeights;
import dev.engram.runtime.Norms;
import dev.engram.runtime.Param;
import dev.engram.runtime.TorchOwned;
import java.util.ArrayList;
import java.util.List;

/**
 * The transformer forward pass over a whole prompt, recording a {@link Trace}. Each block runs in its own
 * {@link NDScope}: intermediates are freed when the block ends, and only the hook points a trace keeps survive.
 * Neuron scalings and sparse weight deltas are applied on the fly; the weights are never copied.
 */
public final class ForwardPass {
    private final ModelConfig config;
    private final EffectiveWeights weights;
    private NeuronScaling scaling = NeuronScaling.none();
    private List<RowUpdate> rowUpdates = List.of();
    /** Where a run starts: block {@code startLayer} reads {@code startResidual} as h^{startLayer−1} (0: the embedding). */
    private int startLayer;
    private NDArray startResidual;
    /** Packed runs only: sequence k reads the effective weights of view k (null: every sequence reads {@link #weights}). */
    private final List<EffectiveWeights> sequenceViews;
    /** During a run with {@link #sequenceViews}: per view, a [rows, 1] mask of 1 on its sequence's rows, 0 elsewhere. */
    private List<NDArray> viewRowMasks;

    private ForwardPass(Model model, List<EffectiveWeights> sequenceViews) {
        this.config = model.config();
        this.weights = model.weights();
        this.sequenceViews = sequenceViews;
    }

    public static ForwardPass of(Model model) {
        return new ForwardPass(model, null);
    }

    /**
     * A pass for packed runs in which sequence k runs on {@code views.get(k)}: views of one base model (a parent and
     * its edits) whose deltas differ. Every sequence shares each read of the base weights; each adds only its own
     * view's low-rank correction ({@link EffectiveWeights#correction}). Decoding a parent and an edited model side by
     * side this way reads the weights once per step instead of twice.
     */
    public static ForwardPass ofEach(List<Model> views) {
        if (views.isEmpty()) {
            throw new IllegalArgumentException("no views");
        }
        List<EffectiveWeights> weights = new ArrayList<>();
        for (Model view : views) {
            if (view.weights().base() != views.get(0).weights().base()) {
                throw new IllegalArgumentException("views decoded together must share one base model");
            }
            weights.add(view.weights());
        }
        return new ForwardPass(views.get(0), List.copyOf(weights));
    }

    public ForwardPass withScaling(NeuronScaling scaling) {
        this.scaling = scaling;
        return this;
    }

    /**
     * Adds x·Sᵀ·D terms whose D are live NDArrays (for instance trainable, so that gradients reach them) on top of
     * the model's effective weights.
     */
    public ForwardPass withRowUpdates(List<RowUpdate> updates) {
        this.rowUpdates = List.copyOf(updates);
        return this;
    }

    /**
     * Starts the next packed run at block {@code layer}, with {@code residual} [N, d] standing for the output of blocks
     * 0 .. layer − 1: h^{layer−1}, {@link Trace#residPre} of a packed trace of the same tokens. A learned edit whose trainable rows
     * all lie at or above {@code layer} recomputes the blocks below once instead of at every step (they do not depend on
     * the rows being learned). The caller keeps ownership of {@code residual}; the run never closes it.
     */
    public ForwardPass fromResidual(int layer, NDArray residual) {
        if (layer < 0 || layer >= config.nLayers()) {
            throw new IllegalArgumentException("start layer " + layer + " is outside [0, " + config.nLayers() + ")");
        }
        this.startLayer = layer;
        this.startResidual = layer == 0 ? null : residual;
        return this;
    }

    /** Runs the prompt and keeps every hook point. */
    public Trace trace(int[] tokens) {
        return run(tokens, Keep.EVERYTHING, null, null, null);
    }

    /**
     * Runs several sequences as one packed pass and keeps every hook point of the whole pass: position t of a hook is
     * packed row t ({@link PackedSequences#row}), and attention patterns run over packed rows, 0 outside a row's own
     * sequence and the beginning it shares.
     */
    public Trace trace(PackedSequences packed) {
        checkContext(packed);
        return run(packed.tokens(), Keep.EVERYTHING, null, packed, null);
    }

    /**
     * Runs the prompt and keeps what attribution reads, in O(L·T·d) memory rather than a full trace's O(L·H·T²): the
     * residuals, each layer's keys and values, the final normed residual. Attention pattern rows, FFN coefficients and
     * logits at a position are recomputed from them when asked ({@link Trace#patternRow}, {@link
     * Trace#ffnCoefficientsAt}, {@link Trace#logitsAt}), with the same arithmetic as the pass. Attention runs in blocks
     * of {@value #QUERY_BLOCK} queries, so no [H, T, T] array is ever made. Not for passes with neuron scalings or row
     * updates, whose effects a recomputation would miss.
     */
    public Trace leanTrace(int[] tokens) {
        return run(tokens, Keep.LEAN, null, null, null);
    }

    /** {@link #traces} for lean traces ({@link #leanTrace}). */
    public PackedTraces leanTraces(List<int[]> sequences) {
        return traces(sequences, Keep.LEAN);
    }

    /** Runs the prompt and keeps only the logits at the last position. */
    public float[] lastLogits(int[] tokens) {
        try (Trace trace = run(tokens, Keep.LAST_LOGITS, null, null, null)) {
            return trace.lastLogits();
        }
    }

    /**
     * Runs the prompt and keeps only the logits at every position, [T, V], in a trace the caller closes. Under a
     * gradient collector the logits stay connected to any trainable {@link RowUpdate}.
     */
    public Trace logits(int[] tokens) {
        return run(tokens, Keep.ALL_LOGITS, null, null, null);
    }

    /**
     * Runs several sequences as one packed pass ({@link PackedSequences}) and keeps the logits of every row, [N, V]:
     * row {@code packed.row(s, i)} holds what a separate run of sequence s gives at position i.
     */
    public Trace logits(PackedSequences packed) {
        checkContext(packed);
        return run(packed.tokens(), Keep.ALL_LOGITS, null, packed, null);
    }

    /**
     * Runs several sequences as one packed pass and keeps the logits of the given packed rows only, [rows, V] in the
     * order given: the unembedding (a V-wide product per row) runs for those rows alone.
     */
    public Trace logitsAt(PackedSequences packed, long[] rows) {
        checkContext(packed);
        for (long r : rows) {
            if (r < 0 || r >= packed.tokens().length) {
                throw new IllegalArgumentException("packed row " + r + " is outside [0, " + packed.tokens().length + ")");
            }
        }
        return run(packed.tokens(), Keep.ROWS, null, packed, rows.clone());
    }

    /**
     * Runs several prompts as one packed pass and returns the logits after each prompt's last token, [prompt][V]:
     * what {@link #lastLogits(int[])} gives for each alone, at the cost of one forward pass.
     */
    public float[][] lastLogits(PackedSequences packed) {
        checkContext(packed);
        return sequenceEnds(run(packed.tokens(), Keep.ROWS, null, packed, packed.lastRows()), packed.size());
    }

    /** Splits the [rows, V] logits of a run (each sequence's last row, or every row) into one array per row, and frees the run. */
    private float[][] sequenceEnds(Trace run, int sequences) {
        try (Trace trace = run) {
            float[] flat = trace.logits().toFloatArray();
            int vocab = config.vocabSize();
            float[][] out = new float[sequences][];
            for (int k = 0; k < out.length; k++) {
                out[k] = java.util.Arrays.copyOfRange(flat, k * vocab, (k + 1) * vocab);
            }
            return out;
        }
    }

    /**
     * Traces several sequences in one packed pass and returns one trace per sequence, each recording what tracing it
     * alone would ({@link Trace#slice}). Closing the returned {@link PackedTraces} frees them all.
     */
    public PackedTraces traces(List<int[]> sequences) {
        return traces(sequences, Keep.EVERYTHING);
    }

    private PackedTraces traces(List<int[]> sequences, Keep keep) {
        PackedSequences packed = PackedSequences.of(sequences);
        checkContext(packed);
        Trace whole = run(packed.tokens(), keep, null, packed, null);
        List<Trace> each = new ArrayList<>();
        for (int k = 0; k < sequences.size(); k++) {
            each.add(whole.slice(packed.row(k, 0), packed.row(k, 0) + sequences.get(k).length));
        }
        return new PackedTraces(whole, each);
    }

    /** The per-sequence traces of one packed pass; closing frees the pass and every view of it. */
    public record PackedTraces(Trace whole, List<Trace> each) implements AutoCloseable {
        @Override
        public void close() {
            whole.close();
        }
    }

    /** Every packed sequence fits the model's context. */
    private void checkContext(PackedSequences packed) {
        if (packed.longest() > config.maxSeqLen()) {
            throw new IllegalArgumentException("a packed sequence has " + packed.longest()
                    + " tokens; the model's context is " + config.maxSeqLen());
        }
    }

    /** What a run keeps. */
    private enum Keep { EVERYTHING, LEAN, ALL_LOGITS, LAST_LOGITS, ROWS }

    /** Prompts of at least this many tokens return freed native memory after every block ({@link NativeMemory}). */
    static final int TRIM_FROM_TOKENS = 1024;

    /** Queries per attention block when the pattern is not kept: scores are [H, block, T], never [H, T, T]. */
    static final int QUERY_BLOCK = 256;

    /**
     * Runs {@code tokens} as the continuation of what {@code cache} holds (positions cache.length() onwards),
     * appends their keys and values to the cache and returns the logits at the last new position. The cache must
     * have been filled by forward passes of this same model view.
     */
    public float[] extend(int[] tokens, KvCache cache) {
        checkExtension(tokens.length, cache);
        try (Trace trace = run(tokens, Keep.LAST_LOGITS, cache, null, null)) {
            return trace.lastLogits();
        }
    }

    /**
     * Like {@link #extend(int[], KvCache)}, but returns the logits at every new position, [tokens][V]: row i is what
     * extending by tokens[0..i] alone would give. A decoder checks several guessed tokens in one pass with it.
     */
    public float[][] extendEach(int[] tokens, KvCache cache) {
        checkExtension(tokens.length, cache);
        return sequenceEnds(run(tokens, Keep.ALL_LOGITS, cache, null, null), tokens.length);
    }

    /** A single sequence in {@code cache} can grow by {@code tokens} within the model's context. */
    private void checkExtension(int tokens, KvCache cache) {
        if (cache.length() + tokens > config.maxSeqLen()) {
            throw new IllegalArgumentException("the sequence would have " + (cache.length() + tokens)
                    + " tokens; the model's context is " + config.maxSeqLen());
        }
        if (cache.sequenceLengths(2)[1] > 0) {
            throw new IllegalArgumentException("the cache holds several sequences; extend them together");
        }
    }

    /**
     * Runs the next tokens of each of several sequences held side by side in one cache (sequence k continues from
     * the tokens this method ran for it before, possibly none) as one packed pass, appends their keys and values, and
     * returns for each sequence the logits after its last new token: what {@link #extend(int[], KvCache)} on a
     * cache of that sequence alone gives.
     */
    public float[][] extend(List<int[]> next, KvCache cache) {
        PackedSequences packed = PackedSequences.continuing(next, cache.sequenceLengths(next.size()));
        checkContext(packed);
        return sequenceEnds(run(packed.tokens(), Keep.ROWS, cache, packed, packed.lastRows()), packed.size());
    }

    /** Runs blocks startLayer .. L − 1 and keeps what {@code keep} names. */
    private Trace run(int[] tokens, Keep keep, KvCache cache, PackedSequences packed, long[] keptRows) {
        checkStart(keep, cache, tokens.length);
        if (packed != null && packed.sharesPrefixes()
                && (cache != null || sequenceViews != null || keep == Keep.LEAN)) {
            throw new IllegalStateException("sequences sharing prefixes run on one view, without a KV cache or a lean "
                    + "trace");
        }
        if (packed == null) {
            validate(tokens);
        } else {
            validateIds(tokens);
        }
        boolean record = keep == Keep.EVERYTHING;
        boolean lean = keep == Keep.LEAN;
        if (lean && (!rowUpdates.isEmpty() || !scaling.isEmpty() || sequenceViews != null)) {
            throw new IllegalStateException("a lean trace recomputes rows, so it runs without scalings or row updates");
        }
        int seqLen = tokens.length;
        int offset = cache == null ? 0 : cache.length();
        int[] positions = packed != null ? packed.positions() : consecutive(offset, seqLen);
        NDManager traceManager = weights.manager().newSubManager();
        List<NDArray> pre = new ArrayList<>();
        List<NDArray> mid = new ArrayList<>();
        List<NDArray> post = new ArrayList<>();
        List<NDArray> patterns = new ArrayList<>();
        List<NDArray> values = new ArrayList<>();
        List<NDArray> coefficients = new ArrayList<>();
        List<NDArray> keys = new ArrayList<>();
        try {
            NDArray x;
            NDArray mask;
            try (BlockScope scope = new BlockScope()) {
                x = startLayer > 0 ? startResidual : keep(embed(tokens, positions), traceManager);
                mask = keep(packed != null && packed.sharesPrefixes()
                        ? traceManager.create(packed.visibility(), new Shape(seqLen, seqLen))
                        : causalMask(traceManager, seqLen, offset, maskSegments(cache, packed)), traceManager);
                viewRowMasks = sequenceViews == null ? null : viewRowMasks(traceManager, packed);
            }
            for (int l = startLayer; l < config.nLayers(); l++) {
                Cancellation.checkpoint();
                try (BlockScope scope = new BlockScope()) {
                    LayerWeights w = weights.base().layer(l);
                    // A^l: attention over the pre-normed residual N_1(h^{l-1})
                    NDArray a = Norms.apply(config, x, w.attnNormWeight(), w.attnNormBias());
                    Attention attn = attention(l, w, a, mask, seqLen, positions, cache, record);
                    NDArray residMid = x.add(attn.output);
                    // F^l: FFN over N_2(mid^l); m is the vector of neuron coefficients
                    NDArray b = Norms.apply(config, residMid, w.ffnNormWeight(), w.ffnNormBias());
                    NDArray m = applyFfnScaling(l, ffnCoefficients(l, w, b));
                    NDArray residPost = residMid.add(linear(m, l, Param.FFN_DOWN, w.bDown()));
                    if (record) {
                        pre.add(x);
                        mid.add(keep(residMid, traceManager));
                        patterns.add(keep(attn.pattern, traceManager));
                        values.add(keep(attn.value, traceManager));
                        coefficients.add(keep(m, traceManager));
                        post.add(keep(residPost, traceManager));
                    } else if (lean) {
                        pre.add(x);
                        mid.add(keep(residMid, traceManager));
                        values.add(keep(attn.value, traceManager));
                        keys.add(keep(attn.keys, traceManager));
                        keep(residPost, traceManager);
                    } else {
                        if (x != startResidual) {
                            x.close();
                        }
                        keep(residPost, traceManager);
                    }
                    x = residPost;
                }
                if (seqLen >= TRIM_FROM_TOKENS) {
                    // a long prompt's block frees hundreds of MB into glibc's heaps, which would keep them: hand them
                    // back before the next block allocates its own (milliseconds, against seconds per block)
                    NativeMemory.trim();
                }
            }
            // the mask (a [T, T] array) and the per-view row masks serve the blocks only
            mask.close();
            if (viewRowMasks != null) {
                viewRowMasks.forEach(NDArray::close);
                viewRowMasks = null;
            }
            if (cache != null) {
                cache.advance(packed != null ? packed.segments() : new int[seqLen]);
            }
            try (BlockScope scope = new BlockScope()) {
                NDArray last = switch (keep) {
                    case LAST_LOGITS -> x.get(new NDIndex("{}:", seqLen - 1));
                    case ROWS -> x.get(x.getManager().create(keptRows));
                    default -> x;
                };
                NDArray normed = Norms.apply(config, last, weights.base().finalNormWeight(), weights.base().finalNormBias());
                if (lean) {
                    post.add(x); // h^L; h^l for l < L is residPre(l + 1)
                    return Trace.lean(traceManager, config, tokens, pre, mid, post.get(0), values, keys,
                            keep(normed, traceManager), new Rows());
                }
                NDArray logits = keep(normed.matMul(weights.base().unembedding()), traceManager);
                if (!record) {
                    return new Trace(traceManager, config, tokens, null, null, null, null, null, null, null, logits);
                }
                return new Trace(traceManager, config, tokens, pre, mid, post, patterns, values, coefficients,
                        keep(normed, traceManager), logits);
            }
        } catch (RuntimeException e) {
            traceManager.close();
            throw e;
        }
    }

    /**
     * A run that starts above block 0 ({@link #fromResidual}) skips the blocks below it, so it must not need anything
     * from them: no row update or neuron scaling there, no KV cache, no recorded hook points, and a residual for every
     * token.
     */
    private void checkStart(Keep keep, KvCache cache, int tokens) {
        if (startLayer == 0) {
            return;
        }
        if (cache != null || keep == Keep.EVERYTHING || keep == Keep.LEAN) {
            throw new IllegalStateException("a run from block " + startLayer + " keeps logits only, without a KV cache");
        }
        for (RowUpdate u : rowUpdates) {
            if (u.layer() < startLayer) {
                throw new IllegalStateException("a row update at layer " + u.layer() + " lies below the start block "
                        + startLayer);
            }
        }
        for (int l = 0; l < startLayer; l++) {
            if (!scaling.ffnAt(l).isEmpty() || !scaling.attentionAt(l).isEmpty()) {
                throw new IllegalStateException("a neuron scaling at layer " + l + " lies below the start block "
                        + startLayer);
            }
        }
        if (startResidual.getShape().get(0) != tokens || startResidual.getShape().get(1) != config.dModel()) {
            throw new IllegalArgumentException("the start residual " + startResidual.getShape() + " does not match "
                    + tokens + " tokens of width " + config.dModel());
        }
    }

    /** The sequence of every attention source (cached rows, then new ones), or null for one sequence. */
    private static int[] maskSegments(KvCache cache, PackedSequences packed) {
        if (packed == null) {
            return null;
        }
        if (cache == null) {
            return packed.segments();
        }
        int[] cached = cache.segments();
        int[] all = java.util.Arrays.copyOf(cached, cached.length + packed.segments().length);
        System.arraycopy(packed.segments(), 0, all, cached.length, packed.segments().length);
        return all;
    }

    /** Per view k of {@link #sequenceViews}: [rows, 1], 1 on the rows of sequence k, 0 elsewhere. */
    private List<NDArray> viewRowMasks(NDManager manager, PackedSequences packed) {
        if (packed == null) {
            throw new IllegalArgumentException("a pass over several views runs packed sequences");
        }
        if (packed.size() != sequenceViews.size()) {
            throw new IllegalArgumentException(packed.size() + " sequences for " + sequenceViews.size() + " views");
        }
        int[] segments = packed.segments();
        List<NDArray> masks = new ArrayList<>();
        for (int k = 0; k < sequenceViews.size(); k++) {
            float[] ones = new float[segments.length];
            for (int i = 0; i < segments.length; i++) {
                ones[i] = segments[i] == k ? 1f : 0f;
            }
            masks.add(keep(manager.create(ones, new Shape(segments.length, 1)), manager));
        }
        return masks;
    }

    private void validate(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("the token sequence is empty");
        }
        if (tokens.length > config.maxSeqLen()) {
            throw new IllegalArgumentException("the sequence has " + tokens.length
                    + " tokens; the model's context is " + config.maxSeqLen());
        }
        validateIds(tokens);
    }

    private void validateIds(int[] tokens) {
        for (int t : tokens) {
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    /** h^0 = c·W_E[tokens] (+ W_pos[positions] with learned positions); c = sqrt(d) for scaled embeddings, else 1. */
    private NDArray embed(int[] tokens, int[] positions) {
        NDList rows = new NDList(tokens.length);
        for (int token : tokens) {
            rows.add(weights.base().tokenEmbedding().get(token));
        }
        NDArray h0 = NDArrays.stack(rows);
        if (config.family().scaledEmbeddings()) {
            h0 = h0.mul(TorchOwned.scalar(config.family().embeddingScale(config.dModel())));
        }
        if (weights.base().positionEmbedding() != null) {
            long[] at = new long[positions.length];
            for (int i = 0; i < at.length; i++) {
                at[i] = positions[i];
            }
            h0 = h0.add(weights.base().positionEmbedding().get(h0.getManager().create(at)));
        }
        return h0;
    }

    /** A block's attention: its output, its pattern (null when not kept), values [H, T, dh], keys [T, n_kv, dh]. */
    private record Attention(NDArray output, NDArray pattern, NDArray value, NDArray keys) {
    }

    /**
     * Head j: α^j = softmax(q^j·k^{g(j)ᵀ}/sqrt(d_head) + causal mask); z^j = α^j·val^{g(j)};
     * A = concat_j(z^j)·W_O + b_O. With a cache, the new queries also attend to the cached keys and values of the
     * earlier positions.
     */
    private Attention attention(int layer, LayerWeights w, NDArray a, NDArray mask, int seqLen, int[] positions,
            KvCache cache, boolean keepPattern) {
        int nH = config.nHeads();
        int nKv = config.nKvHeads();
        int dh = config.headDim();
        NDArray q = queries(layer, w, a, positions);
        NDArray k = linear(a, layer, Param.ATTN_K, w.bK()).reshape(seqLen, nKv, dh);
        NDArray v = linear(a, layer, Param.ATTN_V, w.bV()).reshape(seqLen, nKv, dh);
        k = config.family().positions().rotate(k, config, positions);
        if (cache != null) {
            k = cache.append(layer, k, KvCache.Part.KEY);
            v = cache.append(layer, v, KvCache.Part.VALUE);
        }
        NDArray qh = q.transpose(1, 0, 2);
        NDArray kh = byQueryHead(k).transpose(1, 0, 2);
        NDArray vh = byQueryHead(v).transpose(1, 0, 2);
        NDArray pattern = null;
        NDArray z;
        if (keepPattern || seqLen <= QUERY_BLOCK || !scaling.attentionAt(layer).isEmpty() || !rowUpdates.isEmpty()) {
            pattern = pattern(qh, kh, mask);
            z = applyAttentionScaling(layer, pattern.matMul(vh), pattern, vh);
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
        return new Attention(linear(concat, layer, Param.ATTN_O, w.bO()), pattern, vh, k);
    }

    /** q = N_1(h)·W_Q (+ b_Q), RoPE'd at {@code positions}: [rows, H, d_head]. */
    private NDArray queries(int layer, LayerWeights w, NDArray a, int[] positions) {
        NDArray q = linear(a, layer, Param.ATTN_Q, w.bQ()).reshape(a.getShape().get(0), config.nHeads(),
                config.headDim());
        return config.family().positions().rotate(q, config, positions);
    }

    /** Key or value heads [T, n_kv, dh] as one per query head [T, H, dh]: g(j) = floor(j / group). */
    private NDArray byQueryHead(NDArray kv) {
        return config.nKvHeads() < config.nHeads() ? kv.repeat(1, config.groupSize()) : kv;
    }

    /** α = softmax(q·kᵀ / sqrt(d_head) + M) for queries [H, Q, dh], keys [H, S, dh], mask [Q, S]: [H, Q, S]. */
    private static NDArray pattern(NDArray qh, NDArray kh, NDArray mask) {
        NDArray scores = qh.matMul(kh.transpose(0, 2, 1)).div(TorchOwned.scalar((float) Math.sqrt(qh.getShape().get(2))));
        return (mask == null ? scores : scores.add(mask)).softmax(-1);
    }

    /**
     * What a lean trace recomputes, with this pass's arithmetic: one query position's attention pattern, one
     * position's FFN coefficients, one position's logits.
     */
    final class Rows {
        /**
         * α^l rows of the queries at {@code positions}, from h^{l−1} there and the keys of sources 0..S − 1, each row
         * causally masked (sources after its position get 0): [H, P, S].
         */
        NDArray patternRows(int layer, NDArray residPreRows, int[] positions, NDArray keys) {
            LayerWeights w = weights.base().layer(layer);
            NDArray a = Norms.apply(config, residPreRows, w.attnNormWeight(), w.attnNormBias());
            NDArray qh = queries(layer, w, a, positions).transpose(1, 0, 2); // [H, P, dh]
            NDArray kh = byQueryHead(keys).transpose(1, 0, 2); // [H, S, dh]
            int sources = (int) keys.getShape().get(0);
            float[] mask = new float[positions.length * sources];
            for (int i = 0; i < positions.length; i++) {
                java.util.Arrays.fill(mask, i * sources + Math.min(sources, positions[i] + 1), (i + 1) * sources,
                        Float.NEGATIVE_INFINITY);
            }
            return pattern(qh, kh, a.getManager().create(mask, new Shape(positions.length, sources)));
        }

        /** m^l at the given rows of mid^l: [P, d_ffn]. */
        NDArray ffnCoefficients(int layer, NDArray residMidRows) {
            LayerWeights w = weights.base().layer(layer);
            NDArray b = Norms.apply(config, residMidRows, w.ffnNormWeight(), w.ffnNormBias());
            return ForwardPass.this.ffnCoefficients(layer, w, b);
        }

        /** Logits from one row of N_f(h^L): [V]. */
        NDArray logits(NDArray finalNormedRow) {
            return finalNormedRow.reshape(1, config.dModel()).matMul(weights.base().unembedding()).reshape(config.vocabSize());
        }
    }

    /** Gated: m = σ(x·W_gate) ⊙ (x·W_up) (SwiGLU, GeGLU). Ungated: m = σ(x·W_fc + b_fc) (GPT-2). */
    private NDArray ffnCoefficients(int layer, LayerWeights w, NDArray x) {
        FeedForward ffn = config.family().feedForward();
        NDArray gate = ffn.gated() ? linear(x, layer, Param.FFN_GATE, null) : null;
        return ffn.coefficients(gate, linear(x, layer, Param.FFN_UP, w.bUp()));
    }

    /**
     * y = x·W_eff + b, with W_eff = W + ΔW read through the effective weights (plus any live row updates). Over several
     * views, row i gets x_i·W + x_i·ΔW_k for its sequence's view k: y = x·W + Σ_k mask_k ⊙ (x·ΔW_k).
     */
    private NDArray linear(NDArray x, int layer, Param param, NDArray bias) {
        NDArray y = sequenceViews == null ? weights.times(x, layer, param) : timesEachView(x, layer, param);
        if (bias != null) {
            y = y.add(bias);
        }
        for (RowUpdate u : rowUpdates) {
            if (u.layer() == layer && u.param() == param) {
                y = y.add(u.apply(x));
            }
        }
        return y;
    }

    private NDArray timesEachView(NDArray x, int layer, Param param) {
        NDArray y = x.matMul(weights.base().layer(layer).matrix(param));
        for (int k = 0; k < sequenceViews.size(); k++) {
            NDArray correction = sequenceViews.get(k).correction(x, layer, param);
            if (correction != null) {
                y = y.add(correction.mul(viewRowMasks.get(k)));
            }
        }
        return y;
    }

    private NDArray applyFfnScaling(int layer, NDArray m) {
        for (NeuronScaling.Ffn f : scaling.ffnAt(layer)) {
            checkRange("FFN neuron", f.neuron(), config.dFfn());
            NDIndex where = f.position() == NeuronScaling.ALL_POSITIONS
                    ? new NDIndex(":, {}", f.neuron())
                    : new NDIndex("{}, {}", checkRange("position", f.position(), m.getShape().get(0)), f.neuron());
            m.set(where, m.get(where).mul(f.scale()));
        }
        return m;
    }

    /** Attention neuron (j, e, p) at query t contributes α_{t,p}^j·val_{p,e}^j to z_{t,e}^j; rescale that term. */
    private NDArray applyAttentionScaling(int layer, NDArray z, NDArray pattern, NDArray value) {
        long seqLen = z.getShape().get(1);
        for (NeuronScaling.Attention n : scaling.attentionAt(layer)) {
            checkRange("head", n.head(), config.nHeads());
            checkRange("head dim", n.dim(), config.headDim());
            checkRange("query position", n.queryPosition(), seqLen);
            checkRange("source position", n.source(), seqLen);
            float coefficient = pattern.getFloat(n.head(), n.queryPosition(), n.source())
                    * value.getFloat(n.head(), n.source(), n.dim());
            NDIndex where = new NDIndex("{}, {}, {}", n.head(), n.queryPosition(), n.dim());
            z.set(where, z.getFloat(n.head(), n.queryPosition(), n.dim()) + (n.scale() - 1f) * coefficient);
        }
        return z;
    }

    private static long checkRange(String what, long value, long size) {
        if (value < 0 || value >= size) {
            throw new IllegalArgumentException(what + " " + value + " is outside [0, " + size + ")");
        }
        return value;
    }

    /**
     * M[t, s] = 0 where s ≤ offset + t, −∞ where s > offset + t (a query never reads a later position); query t sits at
     * cache index offset + t, sources at 0 .. offset + seqLen − 1. Packed sequences also mask every source of another
     * sequence: M[t, s] = −∞ where segment(s) ≠ segment(t), with segments indexed by cache row (query t is row
     * offset + t).
     */
    private static NDArray causalMask(NDManager manager, int seqLen, int offset, int[] segments) {
        int sources = offset + seqLen;
        float[] data = new float[seqLen * sources];
        for (int t = 0; t < seqLen; t++) {
            for (int s = 0; s < sources; s++) {
                boolean later = s > offset + t;
                boolean otherSequence = segments != null && segments[s] != segments[offset + t];
                if (later || otherSequence) {
                    data[t * sources + s] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        return manager.create(data, new Shape(seqLen, sources));
    }

    private static int[] consecutive(int from, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = from + i;
        }
        return out;
    }

    /**
     * The scope of one block: an NDScope that frees the block's intermediates when it ends, or nothing when row updates
     * are being trained. Autograd then still needs them in the backward pass (among them arrays made from Java data,
     * whose memory a closed array no longer holds), and the caller's scope frees them after it.
     */
    private final class BlockScope implements AutoCloseable {
        private final NDScope scope = rowUpdates.isEmpty() ? new NDScope() : null;

        @Override
        public void close() {
            if (scope != null) {
                scope.close();
            }
        }
    }

    private static NDArray keep(NDArray array, NDManager owner) {
        NDScope.unregister(array);
        array.attach(owner);
        return array;
    }
}
