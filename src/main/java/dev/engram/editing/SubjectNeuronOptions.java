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

    /**
     * Layer ⌊0.18·L⌉, ridge 0.1, sharpness 12 (silu(12) ≈ 12; the other inputs near −12, where silu is −7·10⁻⁵
     * rather than 6's −0.015: on a development lineage of 90 edits, 85 accepted against 66 of 78 with 6, EVALUATION.md
     * §4), ROME's target settings.
     */
    public static SubjectNeuronOptions defaults() {
        return new SubjectNeuronOptions(-1, 0.1, 12, TargetOptions.defaults());
    }

    @Override
    public EditMethod<?> method() {
        return SubjectNeuronMethod.INSTANCE;
    }
}
