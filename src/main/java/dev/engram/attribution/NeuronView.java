package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import java.util.ArrayList;
import java.util.List;

/**
 * What a reader needs to interpret a neuron: its source token, the top vocabulary tokens of the vector it actually
 * adds (sign(coefficient) · subvalue: a neuron with a negative coefficient pushes its subvalue's bottom tokens), and the
 * target token's rank in that projection.
 */
final class NeuronView {
    private static final int TOP_TOKENS = 5;
    private final Model model;
    private final Readout readout;
    private final int[] tokens;
    private final int target;

    NeuronView(Model model, Readout readout, int[] tokens, int target) {
        this.model = model;
        this.readout = readout;
        this.tokens = tokens;
        this.target = target;
    }

    List<ScoredNeuron> describeRanked(List<RankedNeuron> ranked) {
        return describe(ranked.stream().map(r -> new ScoredNeuron(r.id(), null, r.score(), r.coefficient(), List.of(), 0))
                .toList());
    }

    /** Adds source tokens and top vocabulary tokens; all subvalues are projected in one batch. */
    List<ScoredNeuron> describe(List<ScoredNeuron> neurons) {
        if (neurons.isEmpty()) {
            return List.of();
        }
        List<ScoredNeuron> out = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            NDList rows = new NDList(neurons.size());
            for (ScoredNeuron n : neurons) {
                NeuronId id = n.id();
                int row = id.kind() == NeuronKind.FFN ? id.index() : id.head() * model.config().headDim() + id.dim();
                Param matrix = id.kind() == NeuronKind.FFN ? Param.FFN_DOWN : Param.ATTN_O;
                rows.add(model.weights().rows(id.layer(), matrix, new long[] {row}).squeeze(0));
            }
            NDArray projections = readout.project(NDArrays.stack(rows));
            for (int i = 0; i < neurons.size(); i++) {
                ScoredNeuron n = neurons.get(i);
                float[] added = projections.get(i).toFloatArray();
                if (n.coefficient() < 0) {
                    for (int v = 0; v < added.length; v++) {
                        added[v] = -added[v];
                    }
                }
                List<String> top = new ArrayList<>();
                for (TokenProbability t : new NextTokenDistribution(added).topK(TOP_TOKENS, this::text)) {
                    top.add(t.text());
                }
                int rank = 1;
                for (float a : added) {
                    if (a > added[target]) {
                        rank++;
                    }
                }
                String source = n.id().kind() == NeuronKind.ATTENTION ? text(tokens[n.id().source()]) : null;
                out.add(new ScoredNeuron(n.id(), source, n.score(), n.coefficient(), top, rank));
            }
        }
        return out;
    }

    private String text(int token) {
        return model.hasTokenizer() ? model.tokenizer().tokenString(token) : "#" + token;
    }
}
