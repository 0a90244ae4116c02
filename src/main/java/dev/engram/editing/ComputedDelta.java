package dev.engram.editing;

import dev.engram.runtime.WeightDelta;

/**
 * What an edit method computed: the delta relative to the model view's weights, the Adam steps (LEARNED) or solves
 * (CLOSED_FORM) run, P(target_new) on the edit prompt as the method last saw it, and how many prompts it used.
 */
record ComputedDelta(WeightDelta delta, int steps, double newProbability, int prompts) {
}
