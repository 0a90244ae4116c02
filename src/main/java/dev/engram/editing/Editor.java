package dev.engram.editing;

import dev.engram.runtime.Model;
import java.util.List;

/**
 * Makes one edit on a model view: locates the subvalues ({@link NeuronSelector}), then computes their delta with the
 * chosen method. The delta is relative to the view's effective weights; {@link #apply} composes it onto the view.
 * Nothing here changes the model.
 */
public final class Editor {
    private final Model model;

    public Editor(Model model) {
        this.model = model;
    }

    public EditResult edit(EditCase edit, EditOptions options) {
        long start = System.nanoTime();
        List<EditUnit> units = !options.method().editsLocatedUnits() ? List.of()
                : new NeuronSelector(model).select(edit.prompt(), edit.targetTrue()[0], edit.targetNew()[0], options);
        if (units.isEmpty() && options.method().editsLocatedUnits()) {
            throw new IllegalArgumentException("options: no neuron of the allowed kinds and layers raises either "
                    + "target at this prompt; nothing to edit");
        }
        long located = System.nanoTime();
        ComputedDelta computed = options.method().computeDeltaWith(model, edit, units, options.methodOptions(),
                options.seed());
        long done = System.nanoTime();
        return new EditResult(computed.delta(), units, options.method(), computed.steps(), computed.newProbability(),
                computed.prompts(), (located - start) / 1_000_000, (done - located) / 1_000_000);
    }

    /** Many edits in one solve, for the methods that batch ({@link BatchEditMethod}). */
    public EditResult editBatch(List<EditCase> edits, EditOptions options) {
        if (!(options.method() instanceof BatchEditMethod<?> batch)) {
            throw new IllegalArgumentException("options.method: " + options.method().name()
                    + " edits one fact at a time");
        }
        long start = System.nanoTime();
        ComputedDelta computed = batch.computeBatchDeltaWith(model, edits, options.methodOptions(), options.seed());
        return new EditResult(computed.delta(), List.of(), options.method(), computed.steps(),
                computed.newProbability(), computed.prompts(), 0, (System.nanoTime() - start) / 1_000_000);
    }

    /** The view with {@code result}'s delta composed after the view's own. */
    public Model apply(EditResult result) {
        return model.edited(model.delta().then(result.delta()));
    }
}
