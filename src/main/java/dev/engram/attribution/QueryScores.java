package dev.engram.attribution;

import java.util.List;

/**
 * Query neurons: lower-layer neurons ranked by how much their vectors activate a set of value neurons.
 *
 * @param top           the best query neurons
 * @param attentionLayers per layer, the summed query score of its attention neurons ("query layers")
 * @param ffnLayers     per layer, the summed query score of its FFN neurons
 * @param embedding     the summed query score of the token (+ position) embeddings
 */
public record QueryScores(List<ScoredNeuron> top, double[] attentionLayers, double[] ffnLayers, double embedding) {
}
