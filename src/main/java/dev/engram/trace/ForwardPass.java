package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.NativeMemory;
import dev.engram.runtime.EffectiveWeights;
import dev.engram.runtime.Norms;
import dev.engram.runtime.Precision;
import java.util.ArrayList;
import java.util.List;

/**
 * The transformer forward pass over a whole prompt, recording a {@link Trace}: h^0 ({@link Embedding}), then for each
 * block h^l = mid^l + F^l with mid^l = h^{l−1} + A^l ({@link AttentionStep}, {@link FeedForwardStep}, every matrix
 * product through {@link Projections}), then N_f(h^L)·W_U. What a run keeps is {@link Recorder}'s job; what it
 * changes ({@link NeuronScaling}, {@link RowUpdate}) is {@link Interventions}'. A pass is an immutable value:
 * {@link #withScaling}, {@link #withRowUpdates} and {@link #fromResidual} return new passes. Each block runs in its
 * own {@link NDScope}: intermediates are freed when the block ends, and only the hook points a trace keeps survive.
 * Sparse weight deltas are applied on the fly; the weights are never copied.
 */
public final class ForwardPass {
    private final ModelConfig config;
    private final EffectiveWeights weights;
    /** Packed runs only: sequence k reads the effective weights of view k (null: every sequence reads {@link #weights}). */
    private final List<EffectiveWeights> sequenceViews;
    private final Interventions interventions;
    /** Where a run starts: block {@code startLayer} reads {@code startResidual} as h^{startLayer−1} (0: the embedding). */
    private final int startLayer;
    private final NDArray startResidual;
    /** Beginnings the packed sequences of a run continue: read at every block, never added to (null: none). */
    private final KvCache prefix;

    private ForwardPass(ModelConfig config, EffectiveWeights weights, List<EffectiveWeights> sequenceViews,
            Interventions interventions, int startLayer, NDArray startResidual, KvCache prefix) {
        this.config = config;
        this.weights = weights;
        this.sequenceViews = sequenceViews;
        this.interventions = interventions;
        this.startLayer = startLayer;
        this.startResidual = startResidual;
        this.prefix = prefix;
    }

    private ForwardPass(Model model, List<EffectiveWeights> sequenceViews) {
        this(model.config(), model.weights(), sequenceViews, Interventions.none(), 0, null, null);
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

    /** This pass with the coefficients {@code scaling} names rescaled. */
    public ForwardPass withScaling(NeuronScaling scaling) {
        return new ForwardPass(config, weights, sequenceViews, interventions.withScaling(scaling), startLayer,
                startResidual, prefix);
    }

    /**
     * Adds x·Sᵀ·D terms whose D are live NDArrays (for instance trainable, so that gradients reach them) on top of
     * the model's effective weights.
     */
    /**
     * The same pass, keeping every block's intermediates for a backward pass through it: for a trainable input residual
     * ({@link #fromResidual}) when there are no row updates.
     */
    public ForwardPass differentiable() {
        return new ForwardPass(config, weights, sequenceViews, interventions.differentiated(), startLayer,
                startResidual, prefix);
    }

    public ForwardPass withRowUpdates(List<RowUpdate> updates) {
        return new ForwardPass(config, weights, sequenceViews, interventions.withRowUpdates(updates), startLayer,
                startResidual, prefix);
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
        return new ForwardPass(config, weights, sequenceViews, interventions, layer, layer == 0 ? null : residual,
                prefix);
    }

    /**
     * The same pass for packed sequences that continue the beginnings {@code prefix} holds ({@link
     * PackedSequences#after}): every block's attention reads the cached keys and values of a sequence's beginning
     * before its own, and the cache is left as it was, so many runs can continue the same beginnings. An optimisation
     * whose change starts after the beginnings (ROME's v*, added at the subject's last token) so runs each block over
     * the rows from the change on only. The caller keeps ownership of {@code prefix}.
     */
    public ForwardPass afterPrefix(KvCache prefix) {
        return new ForwardPass(config, weights, sequenceViews, interventions, startLayer, startResidual, prefix);
    }

    /**
     * Runs the beginnings {@code heads} (one per sequence, any of them empty) as one packed pass and adds their keys and
     * values to the empty {@code cache}, sequence k's as the cache's sequence k: the prefix a later {@link
     * #afterPrefix} run continues.
     */
    public void prefill(List<int[]> heads, KvCache cache) {
        if (cache.length() > 0) {
            throw new IllegalArgumentException("prefill needs an empty cache");
        }
        PackedSequences packed = PackedSequences.beginnings(heads);
        if (packed.tokens().length > 0) {
            checkContext(packed);
            run(packed.tokens(), Recorder.Keep.LAST_LOGITS, cache, packed, null).close();
        }
    }

    /** Runs the prompt and keeps every hook point. */
    public Trace trace(int[] tokens) {
        return run(tokens, Recorder.Keep.EVERYTHING, null, null, null);
    }

    /**
     * Runs several sequences as one packed pass and keeps every hook point of the whole pass: position t of a hook is
     * packed row t ({@link PackedSequences#row}), and attention patterns run over packed rows, 0 outside a row's own
     * sequence and the beginning it shares.
     */
    public Trace trace(PackedSequences packed) {
        checkContext(packed);
        return run(packed.tokens(), Recorder.Keep.EVERYTHING, null, packed, null);
    }

    /**
     * Runs the prompt and keeps what attribution reads, in O(L·T·d) memory rather than a full trace's O(L·H·T²): the
     * residuals, each layer's keys and values, the final normed residual. Attention pattern rows, FFN coefficients and
     * logits at a position are recomputed from them when asked ({@link Trace#patternRow}, {@link
     * Trace#ffnCoefficientsAt}, {@link Trace#logitsAt}), with the same arithmetic as the pass. Attention runs in blocks
     * of {@value AttentionStep#QUERY_BLOCK} queries, so no [H, T, T] array is ever made. Not for passes with neuron scalings or row
     * updates, whose effects a recomputation would miss.
     */
    public Trace leanTrace(int[] tokens) {
        return run(tokens, Recorder.Keep.LEAN, null, null, null);
    }

    /** {@link #traces} for lean traces ({@link #leanTrace}). */
    public PackedTraces leanTraces(List<int[]> sequences) {
        return traces(sequences, Recorder.Keep.LEAN);
    }

    /** Runs the prompt and keeps only the logits at the last position. */
    public float[] lastLogits(int[] tokens) {
        try (Trace trace = run(tokens, Recorder.Keep.LAST_LOGITS, null, null, null)) {
            return trace.lastLogits();
        }
    }

    /**
     * Runs the prompt and keeps only the logits at every position, [T, V], in a trace the caller closes. Under a
     * gradient collector the logits stay connected to any trainable {@link RowUpdate}.
     */
    public Trace logits(int[] tokens) {
        return run(tokens, Recorder.Keep.ALL_LOGITS, null, null, null);
    }

    /**
     * Runs several sequences as one packed pass ({@link PackedSequences}) and keeps the logits of every row, [N, V]:
     * row {@code packed.row(s, i)} holds what a separate run of sequence s gives at position i.
     */
    public Trace logits(PackedSequences packed) {
        checkContext(packed);
        return run(packed.tokens(), Recorder.Keep.ALL_LOGITS, null, packed, null);
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
        return run(packed.tokens(), Recorder.Keep.ROWS, null, packed, rows.clone());
    }

    /**
     * Runs several prompts as one packed pass and returns the logits after each prompt's last token, [prompt][V]:
     * what {@link #lastLogits(int[])} gives for each alone, at the cost of one forward pass.
     */
    public float[][] lastLogits(PackedSequences packed) {
        checkContext(packed);
        return sequenceEnds(run(packed.tokens(), Recorder.Keep.ROWS, null, packed, packed.lastRows()), packed.size());
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
        return traces(sequences, Recorder.Keep.EVERYTHING);
    }

    private PackedTraces traces(List<int[]> sequences, Recorder.Keep keep) {
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

    /** Prompts of at least this many tokens return freed native memory after every block ({@link NativeMemory}). */
    static final int TRIM_FROM_TOKENS = 1024;

    /**
     * Runs {@code tokens} as the continuation of what {@code cache} holds (positions cache.length() onwards),
     * appends their keys and values to the cache and returns the logits at the last new position. The cache must
     * have been filled by forward passes of this same model view.
     */
    public float[] extend(int[] tokens, KvCache cache) {
        checkExtension(tokens.length, cache);
        try (Trace trace = run(tokens, Recorder.Keep.LAST_LOGITS, cache, null, null)) {
            return trace.lastLogits();
        }
    }

    /**
     * Like {@link #extend(int[], KvCache)}, but returns the logits at every new position, [tokens][V]: row i is what
     * extending by tokens[0..i] alone would give. A decoder checks several guessed tokens in one pass with it.
     */
    public float[][] extendEach(int[] tokens, KvCache cache) {
        checkExtension(tokens.length, cache);
        return sequenceEnds(run(tokens, Recorder.Keep.ALL_LOGITS, cache, null, null), tokens.length);
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
        return sequenceEnds(run(packed.tokens(), Recorder.Keep.ROWS, cache, packed, packed.lastRows()), packed.size());
    }

    /** Runs blocks startLayer .. L − 1 and keeps what {@code keep} names. */
    private Trace run(int[] tokens, Recorder.Keep keep, KvCache cache, PackedSequences packed, long[] keptRows) {
        checkStart(keep, cache, tokens.length);
        if (SequenceWitness.recording()) {
            SequenceWitness.saw(packed == null ? List.of(tokens) : packed.sequences());
        }
        if (packed != null && packed.sharesPrefixes()
                && (cache != null || sequenceViews != null || keep == Recorder.Keep.LEAN)) {
            throw new IllegalStateException("sequences sharing prefixes run on one view, without a KV cache or a lean "
                    + "trace");
        }
        if (packed == null) {
            validate(tokens);
        } else {
            validateIds(tokens);
        }
        if (keep == Recorder.Keep.LEAN && (!interventions.isEmpty() || sequenceViews != null)) {
            throw new IllegalStateException("a lean trace recomputes rows, so it runs without scalings or row updates");
        }
        int seqLen = tokens.length;
        // the keys and values a run reads before its own: a cache it grows, or a prefix it leaves as it was
        KvCache before = cache != null ? cache : prefix;
        int offset = before == null ? 0 : before.length();
        int[] positions = packed != null ? packed.positions() : consecutive(offset, seqLen);
        NDManager traceManager = weights.manager().newSubManager();
        Recorder recorder = new Recorder(keep, traceManager, startResidual);
        try (Precision.Training training = Precision.training(interventions.trains())) {
            NDArray x;
            NDArray mask;
            List<NDArray> viewRowMasks;
            try (BlockScope scope = new BlockScope()) {
                x = startLayer > 0 ? startResidual
                        : Recorder.keep(Embedding.of(config, weights.base(), tokens, positions), traceManager);
                mask = Recorder.keep(packed != null && packed.sharesPrefixes()
                        ? traceManager.create(packed.visibility(), new Shape(seqLen, seqLen))
                        : AttentionMasks.causal(traceManager, seqLen, offset, AttentionMasks.segments(before, packed)),
                        traceManager);
                viewRowMasks = sequenceViews == null ? null
                        : AttentionMasks.viewRows(traceManager, packed, sequenceViews.size());
            }
            Projections projections = new Projections(weights, sequenceViews, viewRowMasks, interventions);
            AttentionStep attention = new AttentionStep(config, projections, interventions);
            FeedForwardStep feedForward = new FeedForwardStep(config, projections);
            for (int l = startLayer; l < config.nLayers(); l++) {
                Cancellation.checkpoint();
                try (BlockScope scope = new BlockScope()) {
                    LayerWeights w = weights.base().layer(l);
                    // A^l: attention over the pre-normed residual N_1(h^{l-1})
                    NDArray a = Norms.apply(config, x, w.attnNormWeight(), w.attnNormBias());
                    AttentionStep.Attention attn = attention.run(l, w, a, mask, seqLen, positions, before,
                            cache != null, recorder.keepsPatterns());
                    NDArray residMid = x.add(attn.output());
                    // F^l: FFN over N_2(mid^l); m is the vector of neuron coefficients
                    NDArray b = Norms.apply(config, residMid, w.ffnNormWeight(), w.ffnNormBias());
                    NDArray m = interventions.scaleFfn(l, feedForward.coefficients(l, w, b), config);
                    NDArray residPost = residMid.add(feedForward.output(l, w, m));
                    recorder.block(x, residMid, attn, m, residPost);
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
            }
            if (cache != null) {
                cache.advance(packed != null ? packed.segments() : new int[seqLen]);
            }
            try (BlockScope scope = new BlockScope()) {
                NDArray normed = Norms.apply(config, recorder.readoutRows(x, seqLen, keptRows),
                        weights.base().finalNormWeight(), weights.base().finalNormBias());
                return recorder.finish(config, tokens, x, normed, weights.base().unembedding(),
                        new RecomputedRows(config, weights.base(), attention, feedForward));
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
    private void checkStart(Recorder.Keep keep, KvCache cache, int tokens) {
        if (prefix != null && cache != null) {
            throw new IllegalStateException("a run after a prefix leaves its cache as it was; it cannot grow another");
        }
        if (startLayer == 0) {
            return;
        }
        if (cache != null || keep == Recorder.Keep.EVERYTHING || keep == Recorder.Keep.LEAN) {
            throw new IllegalStateException("a run from block " + startLayer + " keeps logits only, without a KV cache");
        }
        interventions.checkNothingBelow(startLayer);
        if (startResidual.getShape().get(0) != tokens || startResidual.getShape().get(1) != config.dModel()) {
            throw new IllegalArgumentException("the start residual " + startResidual.getShape() + " does not match "
                    + tokens + " tokens of width " + config.dModel());
        }
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
        private final NDScope scope = interventions.trains() ? null : new NDScope();

        @Override
        public void close() {
            if (scope != null) {
                scope.close();
            }
        }
    }
}
