package dev.engram.editing;

import dev.engram.attribution.NeuronKind;
import java.util.EnumSet;
import java.util.Set;

/**
 * How an edit is made.
 *
 * @param method          LEARNED or CLOSED_FORM
 * @param neuronBudget    how many subvalue vectors may change (true-carriers and new-promoters together)
 * @param kinds           which neurons may be edited: FFN value neurons (rows of W_down), attention value neurons
 *                        (rows of W_O, i.e. columns of the HF o_proj)
 * @param excludedLayers  layers whose neurons are never edited
 * @param maxSteps        LEARNED: Adam steps at most; CLOSED_FORM: refinement solves at most
 * @param learningRate    LEARNED: Adam's step size
 * @param stopProbability LEARNED: stop once every token of target_new (teacher-forced) reaches this on every training
 *                        prompt
 * @param klWeight        LEARNED: weight of KL(parent ‖ edited) on the prompt's earlier positions
 * @param contrastWeight  LEARNED: weight of KL(parent ‖ edited) at the last position of the contrast prompts (the
 *                        template filled with other subjects, {@link ContrastPrompts}); no effect on a plain prompt
 * @param l2Weight        LEARNED: weight of Σ‖δ‖²
 * @param repetitionWeight LEARNED: weight of FiNE's repetition penalty −log(1 − p(target_new[0])) right after the
 *                        whole target, which keeps the edit from making the new answer repeat itself
 * @param margin          CLOSED_FORM: the log-odds log p(new) − log p(true) to reach at the prompt
 * @param prefixes        LEARNED: how many model-generated prefixes the prompt is also trained behind (ROME)
 * @param seed            seeds the prefixes; the same seed gives the same delta
 */
public record EditOptions(EditMethod method, int neuronBudget, Set<NeuronKind> kinds, Set<Integer> excludedLayers,
        int maxSteps, double learningRate, double stopProbability, double klWeight, double contrastWeight, double l2Weight, double repetitionWeight, double margin,
        int prefixes, long seed) {

    public EditOptions {
        if (method == null) {
            throw new IllegalArgumentException("options.method: must be given");
        }
        if (neuronBudget <= 0) {
            throw new IllegalArgumentException("options.neuron_budget: must be positive, got " + neuronBudget);
        }
        if (kinds == null || kinds.isEmpty()) {
            throw new IllegalArgumentException("options.neuron_kinds: must name at least one kind");
        }
        if (maxSteps <= 0 || maxSteps > 1000) {
            throw new IllegalArgumentException("options.steps: must be between 1 and 1000, got " + maxSteps);
        }
        requireNonNegative("options.learning_rate", learningRate);
        requireNonNegative("options.kl_weight", klWeight);
        requireNonNegative("options.contrast_weight", contrastWeight);
        requireNonNegative("options.l2_weight", l2Weight);
        requireNonNegative("options.repetition_weight", repetitionWeight);
        if (!Double.isFinite(stopProbability) || stopProbability <= 0 || stopProbability > 1) {
            throw new IllegalArgumentException("options.stop_probability: must be in (0, 1], got " + stopProbability);
        }
        if (!Double.isFinite(margin) || margin <= 0) {
            throw new IllegalArgumentException("options.margin: must be a positive finite number, got " + margin);
        }
        if (prefixes < 0 || prefixes > 20) {
            throw new IllegalArgumentException("options.prefixes: must be between 0 and 20, got " + prefixes);
        }
        kinds = Set.copyOf(kinds);
        excludedLayers = Set.copyOf(excludedLayers);
    }

    private static void requireNonNegative(String field, double value) {
        if (!Double.isFinite(value) || value < 0) {
            throw new IllegalArgumentException(field + ": must be a non-negative finite number, got " + value);
        }
    }

    /**
     * Defaults for {@code method} on a model of {@code layers} blocks: 10 FFN neurons outside the last tenth of the
     * layers (FiNE leaves the last layers out: their neurons write the output for every prompt), up to 40 Adam steps at
     * 0.0125 stopping at P(new) ≥ 0.6, KL weights 1 (earlier positions) and 20 (contrast prompts), repetition weight 10
     * (or 6 solves), 2 prefixes. Chosen on the development edits in src/test/resources/dev.
     */
    public static EditOptions defaults(EditMethod method, int layers) {
        Set<Integer> lastTenth = new java.util.HashSet<>();
        for (int l = layers - layers / 10; l < layers; l++) {
            lastTenth.add(l);
        }
        return new EditOptions(method, 10, EnumSet.of(NeuronKind.FFN), lastTenth,
                method == EditMethod.LEARNED ? 40 : 6, 0.0125, 0.6, 1.0, 20.0, 0.01, 10.0, 3.0, 2, 0);
    }

    public EditOptions withBudget(int budget) {
        return new EditOptions(method, budget, kinds, excludedLayers, maxSteps, learningRate, stopProbability,
                klWeight, contrastWeight, l2Weight, repetitionWeight, margin, prefixes, seed);
    }

    public EditOptions withLearningRate(double rate) {
        return new EditOptions(method, neuronBudget, kinds, excludedLayers, maxSteps, rate, stopProbability,
                klWeight, contrastWeight, l2Weight, repetitionWeight, margin, prefixes, seed);
    }

    public EditOptions withSteps(int steps) {
        return new EditOptions(method, neuronBudget, kinds, excludedLayers, steps, learningRate, stopProbability,
                klWeight, contrastWeight, l2Weight, repetitionWeight, margin, prefixes, seed);
    }

    public EditOptions withKinds(Set<NeuronKind> k) {
        return new EditOptions(method, neuronBudget, k, excludedLayers, maxSteps, learningRate, stopProbability,
                klWeight, contrastWeight, l2Weight, repetitionWeight, margin, prefixes, seed);
    }

    public EditOptions withSeed(long s) {
        return new EditOptions(method, neuronBudget, kinds, excludedLayers, maxSteps, learningRate, stopProbability,
                klWeight, contrastWeight, l2Weight, repetitionWeight, margin, prefixes, s);
    }
}
