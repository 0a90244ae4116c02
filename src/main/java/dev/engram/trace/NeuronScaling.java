package dev.engram.trace;

import java.util.ArrayList;
import java.util.List;

/**
 * Coefficients to zero or scale during a forward pass, without touching the weights. A scale of 0 ablates the
 * neuron; 1 leaves it alone.
 */
public final class NeuronScaling {
    /** Position index meaning "every position" for FFN neurons. */
    public static final int ALL_POSITIONS = -1;

    /** FFN neuron (layer, neuron): m_k ← scale · m_k at {@code position} (or at all positions). */
    public record Ffn(int layer, int neuron, int position, float scale) {
    }

    /**
     * Attention neuron (layer, head, dim, source): its coefficient α_{t,p}·val_{p,e} at query position
     * {@code queryPosition} is multiplied by {@code scale}.
     */
    public record Attention(int layer, int head, int dim, int source, int queryPosition, float scale) {
    }

    private final List<Ffn> ffn = new ArrayList<>();
    private final List<Attention> attention = new ArrayList<>();

    public static NeuronScaling none() {
        return new NeuronScaling();
    }

    public NeuronScaling ffn(int layer, int neuron, int position, float scale) {
        ffn.add(new Ffn(layer, neuron, position, scale));
        return this;
    }

    public NeuronScaling attention(int layer, int head, int dim, int source, int queryPosition, float scale) {
        attention.add(new Attention(layer, head, dim, source, queryPosition, scale));
        return this;
    }

    List<Ffn> ffnAt(int layer) {
        return ffn.stream().filter(f -> f.layer() == layer).toList();
    }

    List<Attention> attentionAt(int layer) {
        return attention.stream().filter(a -> a.layer() == layer).toList();
    }

    public boolean isEmpty() {
        return ffn.isEmpty() && attention.isEmpty();
    }
}
