package dev.engram.editing;

/**
 * The subject-neuron method's settings ({@link SubjectNeuronMethod}).
 *
 * @param layer     the FFN whose unit is rewritten; -1: ⌊0.18·L⌉
 * @param ridge     ε of the discriminant's (Σ_N + εI)⁻¹, relative to tr(Σ_N)/d
 * @param sharpness the gate's pre-activation at the subject's mean input
 * @param target    how v* is found ({@link TargetOptions})
 */
public record SubjectNeuronOptions(int layer, double ridge, double sharpness, TargetOptions target)
        implements MethodOptions {

    public SubjectNeuronOptions {
        if (layer < -1) {
            throw new IllegalArgumentException("options.layer: must be -1 (default) or a layer, got " + layer);
        }
        MethodOptionChecks.positive("options.ridge", ridge);
        MethodOptionChecks.positive("options.sharpness", sharpness);
    }

    /** Layer ⌊0.18·L⌉, ridge 0.1, sharpness 6 (silu(6) ≈ 5.985), ROME's target settings. */
    public static SubjectNeuronOptions defaults() {
        return new SubjectNeuronOptions(-1, 0.1, 6, TargetOptions.defaults());
    }

    @Override
    public EditMethod<?> method() {
        return SubjectNeuronMethod.INSTANCE;
    }
}
