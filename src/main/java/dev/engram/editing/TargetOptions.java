package dev.engram.editing;

/**
 * How ROME, MEMIT and AlphaEdit find the output their update must produce at the subject's last token (ROME's v*,
 * MEMIT's z): a vector δ added to the residual stream after the chosen layer there, optimised by Adam
 * ({@link ValueTarget}). Defaults from ROME's and MEMIT's published hyper-parameters (GPT-2 XL, GPT-J).
 *
 * @param steps        Adam steps at most (ROME: 20; MEMIT: 25)
 * @param learningRate Adam's step size (0.5)
 * @param klWeight     weight of KL(parent ‖ edited) at the end of "{subject} is a" (0.0625)
 * @param weightDecay  weight of ‖δ‖ / ‖h‖² with h the unedited output there (ROME: 0.5 on GPT-2 XL; MEMIT: 1e-3)
 * @param clampFactor  ‖δ‖ is held at most this times ‖h‖ (4 on GPT-2 XL, 0.75 on GPT-J)
 * @param prefixes     model-generated prefixes the prompt is also read behind (ROME's context templates; 10 there)
 */
public record TargetOptions(int steps, double learningRate, double klWeight, double weightDecay, double clampFactor,
        int prefixes) {

    public TargetOptions {
        MethodOptionChecks.steps(steps);
        MethodOptionChecks.nonNegative("options.target.learning_rate", learningRate);
        MethodOptionChecks.nonNegative("options.target.kl_weight", klWeight);
        MethodOptionChecks.nonNegative("options.target.weight_decay", weightDecay);
        if (!Double.isFinite(clampFactor) || clampFactor <= 0) {
            throw new IllegalArgumentException("options.target.clamp_factor: must be a positive finite number, got "
                    + clampFactor);
        }
        if (prefixes < 0 || prefixes > 20) {
            throw new IllegalArgumentException("options.target.prefixes: must be between 0 and 20, got " + prefixes);
        }
    }

    /** 20 steps at 0.5, KL weight 0.0625, weight decay 0.5, clamp 4, 5 prefixes. */
    public static TargetOptions defaults() {
        return new TargetOptions(20, 0.5, 0.0625, 0.5, 4.0, 5);
    }
}
