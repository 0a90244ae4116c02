package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.Norms;
import dev.engram.runtime.Precision;
import dev.engram.runtime.WeightDelta;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.List;

/**
 * The closed-form baseline: the minimum-norm change to the selected subvalues that moves the frozen-norm readout at
 * the prompt's last position t by a chosen log-odds margin of target_new over target_true (first tokens).
 *
 * <p>With the final norm frozen at h_T^L (scale r*), adding δ_j to subvalue j (coefficient c_j at t) changes the
 * logit gap s_new − s_true by Σ_j c_j (δ_j · g), where g = γ_f ⊙ C(W_U[:, new] − W_U[:, true]) / r* (C centres for
 * LayerNorm). The least-squares problem min Σ‖δ_j‖² subject to Σ_j c_j (δ_j · g) = Δ has the solution
 * <pre>
 *   δ_j = Δ · c_j · g / (‖g‖² · Σ_i c_i²)
 * </pre>
 * The layers above the edited ones bend this direct effect, so Δ is then found by a few secant steps on the real
 * margin log p(new) − log p(true) of the edited model (one forward pass each), never by gradients.
 */
public final class ClosedFormEditor {
    private final Model model;

    public ClosedFormEditor(Model model) {
        this.model = model;
    }

    ComputedDelta solve(EditCase edit, List<EditUnit> units, ClosedFormOptions options) {
        int[] prompt = edit.prompt();
        int newToken = edit.targetNew()[0];
        int trueToken = edit.targetTrue()[0];
        int t = prompt.length - 1;
        double[] coefficients;
        float[] g;
        double before;
        try (Trace trace = ForwardPass.of(model).trace(prompt); NDScope scope = new NDScope()) {
            coefficients = SubvalueCoefficients.at(model, trace, units, t);
            g = readoutDirection(trace.residPost(model.config().nLayers() - 1).get(t), newToken, trueToken);
            before = margin(trace.lastLogits(), newToken, trueToken);
        }
        double sumSquares = 0;
        for (double c : coefficients) {
            sumSquares += c * c;
        }
        double gNorm2 = 0;
        for (float x : g) {
            gNorm2 += (double) x * x;
        }
        if (sumSquares == 0 || gNorm2 == 0) {
            throw new IllegalArgumentException("options: the selected neurons are inactive at the prompt; "
                    + "no closed-form edit exists (raise options.neuron_budget or allow other kinds)");
        }
        double target = options.margin();
        double previousShift = 0;
        double previousMargin = before;
        double shift = target - before;
        WeightDelta delta = WeightDelta.none();
        NextTokenDistribution edited = null;
        int solves = 0;
        while (solves < options.maxSolves()) {
            delta = delta(units, coefficients, g, shift / (gNorm2 * sumSquares));
            solves++;
            edited = new NextTokenDistribution(ForwardPass.of(model.edited(model.delta().then(delta)))
                    .lastLogits(prompt));
            double reached = edited.logProbability(newToken) - edited.logProbability(trueToken);
            if (Math.abs(reached - target) < 0.05 * target) {
                break;
            }
            // secant on Δ ↦ margin(Δ); fall back to doubling when the slope is unusable
            double slope = (reached - previousMargin) / (shift - previousShift);
            double next = Double.isFinite(slope) && slope > 1e-6 ? shift + (target - reached) / slope : 2 * shift;
            previousShift = shift;
            previousMargin = reached;
            shift = next;
        }
        return new ComputedDelta(delta, solves, edited.probability(newToken), 1);
    }

    /** δ_j = scale · c_j · g for every unit. */
    private WeightDelta delta(List<EditUnit> units, double[] coefficients, float[] g, double scale) {
        WeightDelta.Builder builder = model.deltaBuilder();
        for (int j = 0; j < units.size(); j++) {
            EditUnit u = units.get(j);
            float[] change = new float[g.length];
            for (int i = 0; i < g.length; i++) {
                change[i] = (float) (scale * coefficients[j] * g[i]);
            }
            builder.add(u.layer(), u.matrix(), WeightDelta.Slice.ROW, u.row(), change);
        }
        return builder.build();
    }

    /** g = γ_f ⊙ C(W_U[:, new] − W_U[:, true]) / r*, r* the final norm's scale at the real final residual. */
    private float[] readoutDirection(NDArray finalResidual, int newToken, int trueToken) {
        var base = model.weights().base();
        NDArray scale = Norms.scale(model.config(), finalResidual);
        NDArray diff = Precision.widened(base.unembedding().get(new NDIndex(":, {}", newToken)))
                .sub(Precision.widened(base.unembedding().get(new NDIndex(":, {}", trueToken))));
        NDArray g = model.config().family().norm().centre(diff.mul(base.finalNormWeight()));
        return g.div(scale).toFloatArray();
    }

    private static double margin(float[] logits, int newToken, int trueToken) {
        NextTokenDistribution p = new NextTokenDistribution(logits);
        return p.logProbability(newToken) - p.logProbability(trueToken);
    }
}
