package dev.engram.editing;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.trace.ForwardPass;

/** A key-value method's ΔW_ours [d_ffn][d] of one down projection as a delta: every neuron's subvalue row. */
final class DenseUpdates {
    private DenseUpdates() {
    }

    /** The rows of ΔW at layer l's down projection, relative to {@code model}'s view (originals read from it). */
    static WeightDelta delta(Model model, int layer, double[][] update) {
        WeightDelta.Builder b = model.deltaBuilder();
        for (int j = 0; j < update.length; j++) {
            float[] row = new float[update[j].length];
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) update[j][i];
            }
            b.add(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, j, row);
        }
        return b.build();
    }

    /** P(target_new's first token) at the edit prompt on {@code model} with {@code delta} on top of its own. */
    static double newProbability(Model model, WeightDelta delta, EditCase edit) {
        Model edited = model.edited(model.delta().then(delta));
        return new NextTokenDistribution(ForwardPass.of(edited).lastLogits(edit.prompt()))
                .probability(edit.targetNew()[0]);
    }
}
