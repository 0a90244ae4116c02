package dev.engram.editing;

/**
 * The learned method's settings ({@link LearnedMethod}).
 *
 * @param maxSteps         Adam steps at most
 * @param learningRate     Adam's step size
 * @param stopProbability  stop once every token of target_new (teacher-forced) reaches this on every training prompt
 * @param klWeight         weight of KL(parent ‖ edited) on the prompt's earlier positions
 * @param contrastWeight   weight of KL(parent ‖ edited) at the last position of the contrast prompts (the template
 *                         filled with other subjects, {@link ContrastPrompts}); no effect on a plain prompt
 * @param l2Weight         weight of Σ‖δ‖²
 * @param repetitionWeight weight of FiNE's repetition penalty −log(1 − p(target_new[0])) right after the whole target,
 *                         which keeps the edit from making the new answer repeat itself
 * @param prefixes         how many model-generated prefixes the prompt is also trained behind (ROME)
 */
public record LearnedOptions(int maxSteps, double learningRate, double stopProbability, double klWeight,
        double contrastWeight, double l2Weight, double repetitionWeight, int prefixes) implements MethodOptions {

    public LearnedOptions {
        MethodOptionChecks.steps(maxSteps);
        MethodOptionChecks.nonNegative("options.learning_rate", learningRate);
        MethodOptionChecks.nonNegative("options.kl_weight", klWeight);
        MethodOptionChecks.nonNegative("options.contrast_weight", contrastWeight);
        MethodOptionChecks.nonNegative("options.l2_weight", l2Weight);
        MethodOptionChecks.nonNegative("options.repetition_weight", repetitionWeight);
        if (!Double.isFinite(stopProbability) || stopProbability <= 0 || stopProbability > 1) {
            throw new IllegalArgumentException("options.stop_probability: must be in (0, 1], got " + stopProbability);
        }
        if (prefixes < 0 || prefixes > 20) {
            throw new IllegalArgumentException("options.prefixes: must be between 0 and 20, got " + prefixes);
        }
    }

    /**
     * Up to 40 Adam steps at 0.0125 stopping at P(new) ≥ 0.6, KL weights 1 (earlier positions) and 20 (contrast
     * prompts), L2 weight 0.01, repetition weight 10, 2 prefixes. Chosen on the development edits in
     * src/test/resources/dev.
     */
    public static LearnedOptions defaults() {
        return new LearnedOptions(40, 0.0125, 0.6, 1.0, 20.0, 0.01, 10.0, 2);
    }

    @Override
    public EditMethod<?> method() {
        return LearnedMethod.INSTANCE;
    }

    public LearnedOptions withLearningRate(double rate) {
        return new LearnedOptions(maxSteps, rate, stopProbability, klWeight, contrastWeight, l2Weight,
                repetitionWeight, prefixes);
    }

    public LearnedOptions withContrastWeight(double weight) {
        return new LearnedOptions(maxSteps, learningRate, stopProbability, klWeight, weight, l2Weight,
                repetitionWeight, prefixes);
    }
}
