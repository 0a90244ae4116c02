package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/** Deltas trained with autograd and Adam: target NLL + KL to the parent + L2 (FiNE's recipe, ROME's prefixes). */
public final class LearnedMethod extends NamedMethod<LearnedOptions> {
    public static final LearnedMethod INSTANCE = new LearnedMethod();

    private LearnedMethod() {
        super("LEARNED", LearnedOptions.class, LearnedOptions::defaults);
    }

    @Override
    public ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, LearnedOptions options,
            long seed) {
        return new LearnedEditor(model).train(edit, units, options, seed);
    }
}
