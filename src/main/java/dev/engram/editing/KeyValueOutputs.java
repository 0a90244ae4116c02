package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.Trace;
import java.util.List;

/** What the key-value methods read from the model besides keys: products with W and residuals at the subject. */
final class KeyValueOutputs {
    private KeyValueOutputs() {
    }

    /** W_eff k in the paper's terms: kᵀ·W_down of the view, [d]. */
    static double[] times(Model model, int layer, double[] k) {
        float[] f = new float[k.length];
        for (int i = 0; i < k.length; i++) {
            f[i] = (float) k[i];
        }
        try (NDScope scope = new NDScope()) {
            NDArray x = model.weights().manager().create(f, new Shape(1, f.length));
            return ValueTarget.toDoubles(model.weights().times(x, layer, Param.FFN_DOWN).toFloatArray());
        }
    }

    /**
     * ROME's Λ-numerator v* − W k* for the key k* and the prompt's own key k_prompt, with v* = W k_prompt + δ:
     * v* − W k* = W (k_prompt − k*) + δ (the bias of the down projection, if any, cancels).
     */
    static double[] residual(Model model, int layer, double[] kPrompt, double[] kStar, double[] delta) {
        double[] out = times(model, layer, KeyValueAlgebra.minus(kPrompt, kStar));
        for (int i = 0; i < out.length; i++) {
            out[i] += delta[i];
        }
        return out;
    }

    /** h at layer l (the residual after the block) at the plain prompt's subject token, [d]. */
    static double[] residualAtSubject(Model model, EditCase edit, int layer) {
        int[] cut = java.util.Arrays.copyOf(edit.prompt(), edit.subject().last() + 1);
        try (Trace trace = ForwardPass.of(model).trace(PackedSequences.of(List.of(cut))); NDScope scope = new NDScope()) {
            return ValueTarget.toDoubles(trace.residPost(layer).get(cut.length - 1).toFloatArray());
        }
    }
}
