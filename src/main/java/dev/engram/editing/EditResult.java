package dev.engram.editing;

import dev.engram.runtime.WeightDelta;
import java.util.List;

/**
 * What an edit method produced.
 *
 * @param delta           the sparse delta (each vector with its original)
 * @param units           the edited subvalues, in selection order
 * @param method          how the delta was made
 * @param steps           Adam steps (LEARNED) or solves (CLOSED_FORM) run
 * @param trainingNewProb P(target_new) on the edit prompt after the last step, as training saw it
 * @param trainingPrompts how many prompts training used (the edit prompt and its prefixed copies)
 * @param locateMillis    time to select the neurons
 * @param editMillis      time to compute the delta
 */
public record EditResult(WeightDelta delta, List<EditUnit> units, EditMethod<?> method, int steps, double trainingNewProb,
        int trainingPrompts, long locateMillis, long editMillis) {
}
