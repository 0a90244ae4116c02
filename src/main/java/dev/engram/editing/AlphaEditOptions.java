package dev.engram.editing;

/**
 * AlphaEdit's settings ({@link AlphaEditMethod}).
 *
 * @param layers            the down projections rewritten (default as MEMIT's, {@link LayerRange})
 * @param nullSpaceThreshold eigen-directions of C with eigenvalue below this times the mean eigenvalue tr(C)/d_ffn
 *                          form the null space the update is projected onto (AlphaEdit: an absolute 2e-2 on its own
 *                          statistics; relative here, since activation scales differ between models)
 * @param l2Weight          α of (P K Kᵀ + α I)⁻¹ (AlphaEdit's L2: 10 on Llama3-8B)
 * @param target            how each z is found ({@link TargetOptions})
 */
public record AlphaEditOptions(LayerRange layers, double nullSpaceThreshold, double l2Weight, TargetOptions target)
        implements MethodOptions {

    public AlphaEditOptions {
        if (!Double.isFinite(nullSpaceThreshold) || nullSpaceThreshold <= 0) {
            throw new IllegalArgumentException("options.null_space_threshold: must be a positive finite number, got "
                    + nullSpaceThreshold);
        }
        if (!Double.isFinite(l2Weight) || l2Weight <= 0) {
            throw new IllegalArgumentException("options.l2_weight: must be a positive finite number, got " + l2Weight);
        }
    }

    /**
     * AlphaEdit's Llama3-8B values: α = 10, z from 25 steps at 0.1, weight decay 0.5, clamp 0.75; the threshold, 1 (the
     * mean eigenvalue), chosen on 6 development records among 0.01 / 0.3 / 1 (EVALUATION.md §2).
     */
    public static AlphaEditOptions defaults() {
        return new AlphaEditOptions(new LayerRange(-1, -1), 1.0, 10, new TargetOptions(25, 0.1, 0.0625, 0.5, 0.75, 5));
    }

    @Override
    public EditMethod<?> method() {
        return AlphaEditMethod.INSTANCE;
    }
}
