package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/** An edit method that can also write many facts in one solve (MEMIT, AlphaEdit). */
public interface BatchEditMethod<O extends MethodOptions> extends EditMethod<O> {
    /** One delta relative to {@code model}'s view that makes every edit's prompt answer its target_new. */
    ComputedDelta computeBatchDelta(Model model, List<EditCase> edits, O options, long seed);

    /** {@link #computeBatchDelta} for options known only as {@link MethodOptions}; they must be this method's. */
    default ComputedDelta computeBatchDeltaWith(Model model, List<EditCase> edits, MethodOptions options, long seed) {
        if (!optionsType().isInstance(options)) {
            throw new IllegalArgumentException("options: " + name() + " takes " + optionsType().getSimpleName()
                    + ", not " + options.getClass().getSimpleName());
        }
        return computeBatchDelta(model, edits, optionsType().cast(options), seed);
    }

    @Override
    default boolean editsLocatedUnits() {
        return false;
    }

    @Override
    default ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, O options, long seed) {
        return computeBatchDelta(model, List.of(edit), options, seed);
    }
}
