package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.NativeMemory;
import dev.engram.runtime.Param;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * Static neuron attribution (Yu & Ananiadou, EMNLP 2024): one forward pass, no gradients. For each target token
 * it scores every FFN and attention value neuron by Imp(v) = log p(w | base + v) − log p(w | base), the layers and
 * heads by the same log-probability increase, and the query neurons that activate the best value neurons.
 */
public final class Attributor {
    private final Model model;
    private final ModelConfig config;

    /**
     * Attention coefficients per batch of positions in query scoring: 4 MiB of floats (a 5-token prompt is one batch;
     * at 2,048 tokens on SmolLM2 each position is a batch of its own).
     */
    static final long QUERY_BATCH_ELEMENTS = 1L << 20;

    private final long queryBatchElements;

    public Attributor(Model model) {
        this(model, QUERY_BATCH_ELEMENTS);
    }

    /** With query scoring's attention batches capped at {@code queryBatchElements} coefficients (tests). */
    Attributor(Model model, long queryBatchElements) {
        this.model = model;
        this.config = model.config();
        this.queryBatchElements = queryBatchElements;
    }

    /**
     * Attributes {@code target} (token ids; null means the model's top-1 next token) after {@code prompt}. A
     * multi-token target is teacher-forced: token i is predicted at position |prompt| − 1 + i.
     */
    public AttributionResult attribute(int[] prompt, int[] target, AttributionOptions options) {
        try (Trace trace = traced(tokens(prompt, target))) {
            return on(trace, new Query(prompt, target, options));
        }
    }

    /**
     * Up to this many tokens (all packed sequences together) attribution reads a full trace: its patterns and FFN
     * coefficients, a few MB here, are read where a lean trace recomputes them (query scoring would read W_Q, W_gate and
     * W_up again). Longer prompts get a lean trace, whose memory grows as O(L·T·d), not O(L·H·T²).
     */
    static final int FULL_TRACE_MAX_TOKENS = 64;

    private Trace traced(int[] tokens) {
        ForwardPass pass = ForwardPass.of(model);
        return fullTrace(tokens.length) ? pass.trace(tokens) : pass.leanTrace(tokens);
    }

    private static boolean fullTrace(int tokens) {
        return tokens <= FULL_TRACE_MAX_TOKENS;
    }

    /** One attribution to make: {@link #attribute}'s arguments. */
    public record Query(int[] prompt, int[] target, AttributionOptions options) {
    }

    /**
     * Several attributions from one packed forward pass ({@link ForwardPass#traces}): entry i is what
     * {@link #attribute} gives for query i. The pass's memory grows with the queries' total length (lean traces).
     */
    public List<AttributionResult> attributeAll(List<Query> queries) {
        List<int[]> sequences = new ArrayList<>();
        for (Query q : queries) {
            sequences.add(tokens(q.prompt(), q.target()));
        }
        int total = sequences.stream().mapToInt(s -> s.length).sum();
        try (ForwardPass.PackedTraces traces = fullTrace(total) ? ForwardPass.of(model).traces(sequences)
                : ForwardPass.of(model).leanTraces(sequences)) {
            List<AttributionResult> out = new ArrayList<>();
            for (int i = 0; i < queries.size(); i++) {
                out.add(on(traces.each().get(i), queries.get(i)));
            }
            return out;
        }
    }

    /** The prompt followed by all but the last target token (teacher forcing), checked. */
    private int[] tokens(int[] prompt, int[] target) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt: has no tokens");
        }
        if (target != null && target.length == 0) {
            throw new IllegalArgumentException("target: tokenizes to no tokens");
        }
        int steps = target == null ? 1 : target.length;
        int[] tokens = Arrays.copyOf(prompt, prompt.length + steps - 1);
        if (target != null) {
            System.arraycopy(target, 0, tokens, prompt.length, steps - 1);
        }
        if (tokens.length > config.maxSeqLen()) {
            throw new IllegalArgumentException("prompt: prompt and target are " + tokens.length
                    + " tokens, longer than the context of " + config.maxSeqLen());
        }
        return tokens;
    }

    AttributionResult on(Trace trace, Query q) {
        int steps = q.target() == null ? 1 : q.target().length;
        List<StepAttribution> out = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            int position = q.prompt().length - 1 + i;
            int w = q.target() != null ? q.target()[i] : argmaxAt(trace, position);
            try (NDScope scope = new NDScope()) {
                out.add(step(trace, position, ValueScoring.at(model, trace, position, w, q.options().mode(),
                        !q.options().exhaustive()), q.options(), (kind, layer) -> true));
            }
        }
        return new AttributionResult(model.name(), q.prompt().clone(), q.options().mode(), out);
    }

    /**
     * Attributes each of several candidate next tokens at the prompt's last position, from one forward pass: entry i
     * is the attribution of {@code tokens[i]}, as {@link #attribute} with that single-token target would give it.
     */
    public List<StepAttribution> attributeNextTokens(int[] prompt, int[] tokens, AttributionOptions options) {
        return attributeNextTokens(prompt, tokens, options, (kind, layer) -> true);
    }

    /**
     * {@link #attributeNextTokens(int[], int[], AttributionOptions)} with the value neurons ranked among the allowed
     * (kind, layer) pairs only: the top k of those, not the top k of all filtered afterwards. Layer scores are
     * unaffected.
     */
    public List<StepAttribution> attributeNextTokens(int[] prompt, int[] tokens, AttributionOptions options,
            BiPredicate<NeuronKind, Integer> allowed) {
        if (prompt.length == 0 || prompt.length > config.maxSeqLen()) {
            throw new IllegalArgumentException("prompt: must hold 1 to " + config.maxSeqLen() + " tokens");
        }
        try (Trace trace = traced(prompt); NDScope scope = new NDScope()) {
            // the bases' readout does not depend on the target: computed once for all of them
            ValueScoring.Position position = ValueScoring.Position.at(model, trace, prompt.length - 1,
                    options.mode(), !options.exhaustive());
            List<StepAttribution> out = new ArrayList<>();
            for (int token : tokens) {
                out.add(step(trace, prompt.length - 1, position.forTarget(token), options, allowed));
            }
            return out;
        }
    }

    private static int argmaxAt(Trace trace, int position) {
        try (NDScope scope = new NDScope()) {
            return new NextTokenDistribution(trace.logitsAt(position).toFloatArray()).argmax();
        }
    }

    /** The attribution of the scoring's target at its position; arrays live in the caller's scope or this step's. */
    private StepAttribution step(Trace trace, int t, ValueScoring scoring, AttributionOptions options,
            BiPredicate<NeuronKind, Integer> allowed) {
        int w = scoring.target();
        try (NDScope scope = new NDScope()) {
            int layers = config.nLayers();
            double[] logProbs = scoring.baseLogProbs();
            Readout readout = scoring.readout();

            double[] attentionLayers = new double[layers];
            double[] ffnLayers = new double[layers];
            for (int l = 0; l < layers; l++) {
                // Imp(A^l) = log p(w | mid^l) − log p(w | h^{l−1});  Imp(F^l) = log p(w | h^l) − log p(w | mid^l)
                attentionLayers[l] = logProbs[NeuronTable.midBase(l)] - logProbs[NeuronTable.preBase(l)];
                ffnLayers[l] = logProbs[NeuronTable.preBase(l) + 2] - logProbs[NeuronTable.midBase(l)];
            }
            List<NeuronTable> tables = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                if (allowed.test(NeuronKind.ATTENTION, l)) {
                    tables.add(NeuronTable.attention(model, trace, l, t));
                }
                if (allowed.test(NeuronKind.FFN, l)) {
                    tables.add(NeuronTable.ffn(model, trace, l, t));
                }
            }
            Ranking ranking = rank(scoring, tables, options.topValueNeurons(), options);
            if (trace.length() >= LONG_PROMPT) {
                NativeMemory.trim(); // the ranking's transient arrays, before query scoring makes its own
            }
            QueryScores query = options.topQueryNeurons() == 0 ? null : queryNeurons(trace, scoring, tables, ranking,
                    options);
            return new StepAttribution(t, w, text(w), logProbs[2 * layers], logProbs[0], attentionLayers, ffnLayers,
                    options.headScores() ? headScores(trace, t, scoring) : null, new NeuronView(model, readout, trace.tokens(), w).describeRanked(ranking.top()),
                    query, ranking.evaluated(), ranking.total());
        }
    }

    private QueryScores queryNeurons(Trace trace, ValueScoring scoring, List<NeuronTable> tables, Ranking ranking,
            AttributionOptions options) {
        QueryNeuronScorer scorer = new QueryNeuronScorer(model, trace, options.queryKey(), queryBatchElements);
        for (NeuronKind kind : NeuronKind.values()) {
            int size = kind == NeuronKind.FFN ? options.queryFfnValues() : options.queryAttnValues();
            if (size == 0) {
                continue;
            }
            // the set is the best value neurons of this kind, ranked among their own kind
            List<NeuronTable> ofKind = tables.stream().filter(tb -> tb.kind == kind).toList();
            rank(scoring, ofKind, size, options).top().forEach(scorer::addValueNeuron);
        }
        QueryScores scores = scorer.scores(options.topQueryNeurons());
        NeuronView view = new NeuronView(model, scoring.readout(), trace.tokens(), scoring.target());
        return new QueryScores(view.describe(scores.top()), scores.attentionLayers(), scores.ffnLayers(),
                scores.embedding());
    }

    /** The exact top-k: bounded (in either norm mode), or exhaustive when asked. */
    private static Ranking rank(ValueScoring scoring, List<NeuronTable> tables, int k, AttributionOptions options) {
        return options.exhaustive()
                ? ExhaustiveRanking.top(scoring, tables, k)
                : BoundedRanking.top(scoring, tables, k);
    }

    /** From this many tokens, freed native memory is returned between the stages of a step ({@link NativeMemory}). */
    private static final int LONG_PROMPT = 1024;

    /** Head outputs read out together: about this many [·, V] logit rows live at once. */
    private static final int HEAD_ROWS_PER_READOUT = 64;

    /**
     * Head j of layer l: its output at t (Σ over its dims and sources, no b_O) added to h^{l−1}. The heads of a few
     * layers at a time go through the readout together ({@value #HEAD_ROWS_PER_READOUT} rows of logits at most, not
     * L·H: SmolLM2's 270 heads would hold 53 MB of logits, and as much again for their log-softmax).
     */
    private double[][] headScores(Trace trace, int t, ValueScoring scoring) {
        int layers = config.nLayers();
        int heads = config.nHeads();
        int layersPerReadout = Math.max(1, HEAD_ROWS_PER_READOUT / heads);
        double[][] out = new double[layers][];
        for (int first = 0; first < layers; first += layersPerReadout) {
            int last = Math.min(layers, first + layersPerReadout);
            try (NDScope scope = new NDScope()) {
                NDList rows = new NDList(last - first);
                long[] baseRows = new long[(last - first) * heads];
                for (int l = first; l < last; l++) {
                    rows.add(headInputs(trace, t, l).add(scoring.bases().get(NeuronTable.preBase(l))));
                    Arrays.fill(baseRows, (l - first) * heads, (l - first + 1) * heads, NeuronTable.preBase(l));
                }
                double[] gains = scoring.gains(scoring.readout().logits(NDArrays.concat(rows, 0)), baseRows);
                for (int l = first; l < last; l++) {
                    out[l] = Arrays.copyOfRange(gains, (l - first) * heads, (l - first + 1) * heads);
                }
            }
        }
        return out;
    }

    /** The output of each head of layer l at position t, z^j · W_O[j·dh : (j+1)·dh, :]: [H, d]. */
    private NDArray headInputs(Trace trace, int t, int l) {
        int heads = config.nHeads();
        int dh = config.headDim();
        NDArray pattern = trace.patternRow(l, t).expandDims(1); // [H, 1, t + 1]
        NDArray z = pattern.matMul(trace.value(l).get(new NDIndex(":, :{}, :", t + 1))).reshape(heads, dh); // z^j, [H, dh]
        // all heads at once: a block-diagonal [H, H·dh] times W_O
        NDArray blocks = z.expandDims(1).mul(z.getManager().eye(heads).expandDims(2)).reshape(heads, (long) heads * dh);
        return model.weights().times(blocks, l, Param.ATTN_O);
    }

    private String text(int token) {
        return model.hasTokenizer() ? model.tokenizer().tokenString(token) : "#" + token;
    }
}
