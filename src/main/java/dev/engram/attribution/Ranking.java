package dev.engram.attribution;

import java.util.List;

/**
 * A ranked list of value neurons, best first, and how many neurons were scored exactly to produce it.
 *
 * @param top       the k best by Imp (ties by layer, kind, index)
 * @param evaluated neurons whose Imp was computed exactly
 * @param total     neurons considered
 */
record Ranking(List<RankedNeuron> top, int evaluated, int total) {
}
