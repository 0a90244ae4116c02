package dev.engram.attribution;

/**
 * Which neuron, and at which residual position it writes. FFN neuron (layer, index); attention neuron
 * (layer, head, dim, source) — its {@code index} is the flat (head·d_head + dim)·T + source. Unused fields are −1.
 *
 * @param position the residual position the neuron's vector is added to (the query position for attention)
 */
public record NeuronId(NeuronKind kind, int layer, int index, int head, int dim, int source, int position) {

    static NeuronId ffn(int layer, int neuron, int position) {
        return new NeuronId(NeuronKind.FFN, layer, neuron, -1, -1, -1, position);
    }

    static NeuronId attention(int layer, int head, int dim, int source, int position, int headDim) {
        int sources = position + 1;
        return new NeuronId(NeuronKind.ATTENTION, layer, (head * headDim + dim) * sources + source, head, dim, source,
                position);
    }

    @Override
    public String toString() {
        return kind == NeuronKind.FFN
                ? "FFN L" + layer + "." + index + "@" + position
                : "ATTN L" + layer + ".h" + head + ".d" + dim + ".src" + source + "@" + position;
    }
}
