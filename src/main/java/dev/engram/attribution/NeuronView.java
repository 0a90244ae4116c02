package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.List;

/** What a reader needs to interpret a neuron: its source token and its subvalue's top vocabulary tokens. */
final class NeuronView {
    private static final int TOP_TOKENS = 5;
    private final Model model;
    private final Readout readout;
    private final int[] tokens;

    NeuronView(Model model, Readout readout, int[] tokens) {
        this.model = model;
        this.readout = readout;
        this.tokens = tokens;
    }

    List<ScoredNeuron> describe(List<RankedNeuron> ranked) {
        List<ScoredNeuron> out = new ArrayList<>();
        for (RankedNeuron r : ranked) {
            out.add(describe(r.id(), r.score(), r.coefficient()));
        }
        return out;
    }

    List<ScoredNeuron> relabel(List<ScoredNeuron> neurons) {
        List<ScoredNeuron> out = new ArrayList<>();
        for (ScoredNeuron n : neurons) {
            out.add(describe(n.id(), n.score(), n.coefficient()));
        }
        return out;
    }

    private ScoredNeuron describe(NeuronId id, double score, double coefficient) {
        int row = id.kind() == NeuronKind.FFN ? id.index() : id.head() * model.config().headDim() + id.dim();
        NDArray subvalues = id.kind() == NeuronKind.FFN
                ? model.weights().layer(id.layer()).wDown()
                : model.weights().layer(id.layer()).wO();
        List<String> top = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            float[] projection = readout.project(subvalues.get(row)).toFloatArray();
            for (TokenProbability t : new NextTokenDistribution(projection).topK(TOP_TOKENS, this::text)) {
                top.add(t.text());
            }
        }
        String source = id.kind() == NeuronKind.ATTENTION ? text(tokens[id.source()]) : null;
        return new ScoredNeuron(id, source, score, coefficient, top);
    }

    private String text(int token) {
        return model.hasTokenizer() ? model.tokenizer().tokenString(token) : "#" + token;
    }
}
