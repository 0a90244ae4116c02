package dev.engram.editing;

/**
 * MEMIT's settings ({@link MemitMethod}).
 *
 * @param layers           the down projections rewritten (default: ⌊0.13·L⌉ .. ⌊0.27·L⌉, {@link LayerRange})
 * @param covarianceWeight λ of ΔW = R Kᵀ (λC + K Kᵀ)⁻¹; -1: MEMIT's 15,000 on GPT-J scaled by d_ffn / 16,384 (GPT-J's
 *                         d_ffn), since a key's whitened norm kᵀC⁻¹k, which λ weighs against, averages d_ffn
 * @param target           how each z is found ({@link TargetOptions})
 */
public record MemitOptions(LayerRange layers, double covarianceWeight, TargetOptions target) implements MethodOptions {

    public MemitOptions {
        if (!Double.isFinite(covarianceWeight) || (covarianceWeight <= 0 && covarianceWeight != -1)) {
            throw new IllegalArgumentException("options.covariance_weight: must be -1 (default) or a positive finite "
                    + "number, got " + covarianceWeight);
        }
    }

    /** λ for a model with FFN width {@code dFfn}. */
    double lambda(int dFfn) {
        return covarianceWeight > 0 ? covarianceWeight : 15000.0 * dFfn / 16384;
    }

    /** MEMIT's GPT-J values: λ = 15,000 (scaled), z from 25 steps at 0.5 with weight decay 1e-3 and clamp 0.75. */
    public static MemitOptions defaults() {
        return new MemitOptions(new LayerRange(-1, -1), -1, new TargetOptions(25, 0.5, 0.0625, 1e-3, 0.75, 5));
    }

    @Override
    public EditMethod<?> method() {
        return MemitMethod.INSTANCE;
    }
}
