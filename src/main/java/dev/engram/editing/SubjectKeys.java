package dev.engram.editing;

import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * FFN keys at the subject's last token: layer l's activation k (the down projection's input, {@code mlp.hook_post})
 * there, in the prompt read alone and behind each model-generated prefix (ROME's context templates). The model is
 * causal, so each context is cut after the subject: what follows it cannot change the key.
 */
final class SubjectKeys {
    private SubjectKeys() {
    }

    /** One key per context [contexts][d_ffn], the plain prompt's first. */
    static double[][] of(Model model, EditCase edit, int layer, int prefixes, long seed) {
        int fromEnd = edit.subject().fromEnd(edit.prompt());
        List<int[]> cut = new ArrayList<>();
        for (int[] c : TrainingPrompts.of(model, edit.prompt(), prefixes, seed)) {
            cut.add(Arrays.copyOf(c, c.length - fromEnd));
        }
        PackedSequences packed = PackedSequences.of(cut);
        double[][] out = new double[cut.size()][];
        try (Trace trace = ForwardPass.of(model).trace(packed); NDScope scope = new NDScope()) {
            for (int s = 0; s < cut.size(); s++) {
                out[s] = ValueTarget.toDoubles(trace.ffnCoefficients(layer)
                        .get(packed.row(s, cut.get(s).length - 1)).toFloatArray());
            }
        }
        return out;
    }

    /** k* = the mean of the keys. */
    static double[] mean(double[][] keys) {
        double[] out = new double[keys[0].length];
        for (double[] k : keys) {
            for (int i = 0; i < out.length; i++) {
                out[i] += k[i] / keys.length;
            }
        }
        return out;
    }
}
