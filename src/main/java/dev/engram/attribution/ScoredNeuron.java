package dev.engram.attribution;

import java.util.List;

/**
 * A neuron with its score and what a reader needs to interpret it.
 *
 * @param id          which neuron
 * @param sourceToken the token at the attention neuron's source position (null for FFN neurons)
 * @param score       value neurons: Imp = log p(w | base + v) − log p(w | base); query neurons: summed q(u → value set)
 * @param coefficient m_k (FFN) or α_{T,p}·val_{p,e} (attention)
 * @param topTokens   the 5 tokens whose logits the vector the neuron adds raises most: the vocabulary projection of
 *                    sign(coefficient) · subvalue
 * @param targetRank  the target token's rank in that projection (1 = top); 0 when not described
 */
public record ScoredNeuron(NeuronId id, String sourceToken, double score, double coefficient, List<String> topTokens,
        int targetRank) {
}
