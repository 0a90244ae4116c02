package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
import dev.engram.runtime.Model;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.List;

/**
 * The exact value-neuron rankings by Imp(v) = log p(w | base + v) − log p(w | base) at one position of a trace (FROZEN
 * mode, bounded), over one kind of neuron and optionally one layer: what the evaluation ablates. Also the FROZEN
 * readout S(u) = W_U · (γ_f ⊙ C(u)) / r* at this position, for scoring other methods on the same footing. The arrays
 * it makes live in the caller's NDScope.
 */
public final class ValueNeuronRanker {
    private final Model model;
    private final Trace trace;
    private final int position;
    private final ValueScoring scoring;

    public ValueNeuronRanker(Model model, Trace trace, int position, int target) {
        this.model = model;
        this.trace = trace;
        this.position = position;
        this.scoring = ValueScoring.at(model, trace, position, target, NormMode.FROZEN, true);
    }

    /** The best {@code k} neurons of {@code kind} in every layer, best first (scores without top tokens). */
    public List<ScoredNeuron> top(int k, NeuronKind kind) {
        List<NeuronTable> tables = new ArrayList<>();
        for (int l = 0; l < model.config().nLayers(); l++) {
            tables.add(table(kind, l));
        }
        return scored(BoundedRanking.top(scoring, tables, k));
    }

    /** The best {@code k} neurons of {@code kind} in {@code layer}, best first. */
    public List<ScoredNeuron> topInLayer(int k, NeuronKind kind, int layer) {
        return scored(BoundedRanking.top(scoring, List.of(table(kind, layer)), k));
    }

    /** log p(w | base) for the base of {@code kind}'s neurons in {@code layer}: h^{l−1} (attention) or mid^l (FFN). */
    public double baseLogProb(NeuronKind kind, int layer) {
        return scoring.baseLogProbs()[kind == NeuronKind.FFN ? NeuronTable.midBase(layer) : NeuronTable.preBase(layer)];
    }

    /** S(u) for each row of u [B, d]: [B, V]. Linear in u; S(base + v) = S(base) + S(v). */
    public NDArray frozenReadout(NDArray u) {
        return scoring.readout().direction(u);
    }

    /** r*: the final norm's scale at this position's real final residual; S(u) = P(u) / r*. */
    public double frozenScale() {
        return scoring.readout().frozenScale();
    }

    /**
     * P(u) = W_U · (γ_f ⊙ C(u)) for each row of u [B, d]: [B, V]. The vocabulary projection of a subvalue, without
     * any position's scale; a token's rank in it is the same at every position.
     */
    public static NDArray projection(Model model, NDArray u) {
        return Readout.projectionOnly(model.config(), model.weights().base()).project(u);
    }

    private NeuronTable table(NeuronKind kind, int layer) {
        return kind == NeuronKind.FFN ? NeuronTable.ffn(model, trace, layer, position)
                : NeuronTable.attention(model, trace, layer, position);
    }

    private static List<ScoredNeuron> scored(Ranking ranking) {
        return ranking.top().stream()
                .map(r -> new ScoredNeuron(r.id(), null, r.score(), r.coefficient(), List.of(), 0)).toList();
    }
}
