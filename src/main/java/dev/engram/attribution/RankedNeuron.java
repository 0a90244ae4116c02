package dev.engram.attribution;

import java.util.Comparator;

/** Neuron {@code index} of {@code table} with its value score. */
record RankedNeuron(NeuronTable table, int index, double score) {
    /** Highest score first; ties broken by layer, kind and index so that every ranking is deterministic. */
    static final Comparator<RankedNeuron> ORDER = Comparator.comparingDouble(RankedNeuron::score).reversed()
            .thenComparingInt(r -> r.table().layer)
            .thenComparing(r -> r.table().kind)
            .thenComparingInt(RankedNeuron::index);

    NeuronId id() {
        return table.id(index);
    }

    float coefficient() {
        return table.coefficients[index];
    }
}
