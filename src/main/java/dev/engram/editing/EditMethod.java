package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/**
 * A way to change located subvalues: given the units that {@link NeuronSelector} chose, compute the weight delta.
 * One class per method, each with its own options record ({@link MethodOptions}); {@link EditMethods} lists them.
 *
 * @param <O> the method's options
 */
public interface EditMethod<O extends MethodOptions> {
    /** The method's name in reports and on the command line (upper case, for example "CLOSED_FORM"; read in any case). */
    String name();

    /** The record this method's options come in. */
    Class<O> optionsType();

    /** The options a request that names none gets. */
    O defaults();

    /**
     * Whether the method edits the subvalues {@link NeuronSelector} locates (Engram's own methods); the key-value
     * methods (ROME, MEMIT, AlphaEdit) rewrite whole down projections and are given no units.
     */
    default boolean editsLocatedUnits() {
        return true;
    }

    /**
     * The delta relative to {@code model}'s effective weights that makes {@code edit.prompt()} answer target_new.
     *
     * @param seed seeds whatever the method draws at random; the same seed gives the same delta
     */
    ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, O options, long seed);

    /** {@link #computeDelta} for options known only as {@link MethodOptions}; they must be this method's. */
    default ComputedDelta computeDeltaWith(Model model, EditCase edit, List<EditUnit> units, MethodOptions options,
            long seed) {
        if (!optionsType().isInstance(options)) {
            throw new IllegalArgumentException("options: " + name() + " takes " + optionsType().getSimpleName()
                    + ", not " + options.getClass().getSimpleName());
        }
        return computeDelta(model, edit, units, optionsType().cast(options), seed);
    }
}
