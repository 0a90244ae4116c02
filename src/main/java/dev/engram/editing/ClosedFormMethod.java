package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/** The minimum-norm change that moves the frozen-norm readout by a log-odds margin: one small solve, no gradients. */
public final class ClosedFormMethod extends NamedMethod<ClosedFormOptions> {
    public static final ClosedFormMethod INSTANCE = new ClosedFormMethod();

    private ClosedFormMethod() {
        super("CLOSED_FORM", ClosedFormOptions.class, ClosedFormOptions::defaults);
    }

    @Override
    public ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, ClosedFormOptions options,
            long seed) {
        return new ClosedFormEditor(model).solve(edit, units, options);
    }
}
