package dev.engram.attribution;

import java.util.List;

/**
 * The attribution of one target token at one position.
 *
 * @param position        where the token is predicted (its logits are read at this position)
 * @param target          the token id w
 * @param targetText      its text
 * @param finalLogProb    log p(w | h^L) in the chosen norm mode
 * @param embeddingLogProb log p(w | h^0)
 * @param attentionLayers Imp(A^l) = log p(w | mid^l) − log p(w | h^{l−1}) per layer
 * @param ffnLayers       Imp(F^l) = log p(w | h^l) − log p(w | mid^l) per layer
 * @param heads           [layer][head]: log p(w | h^{l−1} + head output) − log p(w | h^{l−1}); null if not asked for
 * @param valueNeurons    the best value neurons, best first
 * @param query           query neurons and query layers (null when not asked for)
 * @param evaluated       neurons whose Imp was computed exactly
 * @param neurons         all value neurons at this position
 */
public record StepAttribution(int position, int target, String targetText, double finalLogProb,
        double embeddingLogProb, double[] attentionLayers, double[] ffnLayers, double[][] heads,
        List<ScoredNeuron> valueNeurons, QueryScores query, int evaluated, int neurons) {

    /** log p(w | h^L) − log p(w | h^0): what the layers added, and what the layer scores sum to. */
    public double gain() {
        return finalLogProb - embeddingLogProb;
    }
}
