package dev.engram.editing;

import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import java.util.List;

/**
 * ROME (Meng et al., NeurIPS 2022) as an edit method: a rank-one update of one mid-layer FFN down projection. The key
 * k* is the mean FFN activation at the subject's last token over the prompt and its prefixed copies; v* = W k_prompt +
 * δ with δ from {@link ValueTarget}; then W ← W + Λ (C⁻¹k*)ᵀ, Λ = (v* − W k*) / ((C⁻¹k*)ᵀ k*) with C the key
 * statistics of the base model ({@link KeyStatistics}). It ignores the located units: it rewrites a whole matrix.
 */
public final class RomeMethod extends NamedMethod<RomeOptions> {
    public static final RomeMethod INSTANCE = new RomeMethod();

    private RomeMethod() {
        super("ROME", RomeOptions.class, RomeOptions::defaults);
    }

    @Override
    public boolean editsLocatedUnits() {
        return false;
    }

    @Override
    public ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, RomeOptions options,
            long seed) {
        int layer = options.layer() >= 0 ? options.layer() : (int) Math.round(0.18 * model.config().nLayers());
        TargetOptions t = options.target();
        ValueTarget.Result target = ValueTarget.optimise(model, edit, layer, t, seed);
        double[][] keys = SubjectKeys.of(model, edit, layer, t.prefixes(), seed);
        double[] kStar = SubjectKeys.mean(keys);
        double[] residual = KeyValueOutputs.residual(model, layer, keys[0], kStar, target.delta());
        double[][] update = KeyValueAlgebra.rome(KeyStatistics.inverse(model, layer), kStar, residual);
        WeightDelta delta = DenseUpdates.delta(model, layer, update);
        return new ComputedDelta(delta, target.steps(), DenseUpdates.newProbability(model, delta, edit), keys.length);
    }
}
