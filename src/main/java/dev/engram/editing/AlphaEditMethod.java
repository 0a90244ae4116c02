package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/**
 * AlphaEdit (Fang et al., ICLR 2025) as an edit method: MEMIT's spread over layers ({@link LayerSpread}) with each
 * layer's update projected onto the null space of the base model's key statistics
 * ({@link KeyValueAlgebra#alphaEdit}), so that outputs on the keys those statistics were measured on do not move.
 * Earlier edits' keys (AlphaEdit's K_p) are those of the same batch only: a request does not see the keys of the
 * edits its checkpoint's ancestors made.
 */
public final class AlphaEditMethod extends NamedMethod<AlphaEditOptions> implements BatchEditMethod<AlphaEditOptions> {
    public static final AlphaEditMethod INSTANCE = new AlphaEditMethod();

    private AlphaEditMethod() {
        super("ALPHA_EDIT", AlphaEditOptions.class, AlphaEditOptions::defaults);
    }

    @Override
    public ComputedDelta computeBatchDelta(Model model, List<EditCase> edits, AlphaEditOptions options, long seed) {
        return LayerSpread.compute(model, edits, options.layers().resolve(model.config().nLayers()), options.target(),
                (layer, keys, residuals) -> KeyValueAlgebra.alphaEdit(
                        KeyStatistics.projector(model, layer, options.nullSpaceThreshold()), keys, residuals,
                        new double[0][], options.l2Weight()), seed);
    }
}
