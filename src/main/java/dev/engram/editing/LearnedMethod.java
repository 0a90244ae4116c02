package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/** Deltas trained with autograd and Adam: target NLL + KL to the parent + L2 (FiNE's recipe, ROME's prefixes). */
public final class LearnedMethod implements EditMethod<LearnedOptions> {
    public static final LearnedMethod INSTANCE = new LearnedMethod();

    private LearnedMethod() {
    }

    @Override
    public String name() {
        return "LEARNED";
    }

    @Override
    public Class<LearnedOptions> optionsType() {
        return LearnedOptions.class;
    }

    @Override
    public LearnedOptions defaults() {
        return LearnedOptions.defaults();
    }

    @Override
    public ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, LearnedOptions options,
            long seed) {
        return new LearnedEditor(model).train(edit, units, options, seed);
    }

    @Override
    public String toString() {
        return name();
    }
}
