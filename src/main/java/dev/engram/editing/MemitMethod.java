package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/**
 * MEMIT (Meng et al., ICLR 2023) as an edit method: the facts' residuals spread over a layer range ({@link LayerSpread}),
 * each layer solved as ΔW = R Kᵀ (λC + K Kᵀ)⁻¹ ({@link KeyValueAlgebra#memit}). It ignores the located units.
 */
public final class MemitMethod extends NamedMethod<MemitOptions> implements BatchEditMethod<MemitOptions> {
    public static final MemitMethod INSTANCE = new MemitMethod();

    private MemitMethod() {
        super("MEMIT", MemitOptions.class, MemitOptions::defaults);
    }

    @Override
    public ComputedDelta computeBatchDelta(Model model, List<EditCase> edits, MemitOptions options, long seed) {
        return LayerSpread.compute(model, edits, options.layers().resolve(model.config().nLayers()), options.target(),
                (layer, keys, residuals) -> KeyValueAlgebra.memit(KeyStatistics.inverse(model, layer),
                        options.lambda(model.config().dFfn()), keys, residuals), seed);
    }
}
