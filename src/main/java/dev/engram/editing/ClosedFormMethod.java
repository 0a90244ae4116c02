package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/** The minimum-norm change that moves the frozen-norm readout by a log-odds margin: one small solve, no gradients. */
public final class ClosedFormMethod implements EditMethod<ClosedFormOptions> {
    public static final ClosedFormMethod INSTANCE = new ClosedFormMethod();

    private ClosedFormMethod() {
    }

    @Override
    public String name() {
        return "CLOSED_FORM";
    }

    @Override
    public Class<ClosedFormOptions> optionsType() {
        return ClosedFormOptions.class;
    }

    @Override
    public ClosedFormOptions defaults() {
        return ClosedFormOptions.defaults();
    }

    @Override
    public ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, ClosedFormOptions options,
            long seed) {
        return new ClosedFormEditor(model).solve(edit, units, options);
    }

    @Override
    public String toString() {
        return name();
    }
}
