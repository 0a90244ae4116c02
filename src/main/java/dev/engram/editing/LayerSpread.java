package dev.engram.editing;

import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import java.util.ArrayList;
import java.util.List;

/**
 * MEMIT's procedure (Meng et al., ICLR 2023) for one or many facts over layers R = {l₁..l_L}, with the per-layer
 * solve left to the method (MEMIT's covariance-weighted least squares, AlphaEdit's null-space projected one):
 * <ol>
 * <li>for each fact i, z_i = h_i^{l_L} + δ_i at the subject's last token ({@link ValueTarget} at l_L);</li>
 * <li>for each l in R, lowest first: the keys K at l of every fact in every context (the current model), the residual
 * r_i = (z_i − h_i^{l_L}) / (layers left, l included) repeated for each of fact i's contexts, ΔW_l = solve(l, K, R);
 * apply it, and read the next layer's keys and h from the model with it.</li>
 * </ol>
 */
final class LayerSpread {
    /** One layer's update from its keys [m][d_ffn] and residuals [m][d]. */
    interface Solve {
        double[][] update(int layer, double[][] keys, double[][] residuals);
    }

    private LayerSpread() {
    }

    static ComputedDelta compute(Model model, List<EditCase> edits, int[] layers, TargetOptions t, Solve solve,
            long seed) {
        int top = layers[layers.length - 1];
        KeyStatistics.covariances(model, layers); // every layer's statistics in one pass over the corpus
        List<double[]> z = new ArrayList<>();
        int steps = 0;
        for (EditCase e : edits) {
            ValueTarget.Result r = ValueTarget.optimise(model, e, top, t, seed);
            double[] zi = r.residual().clone();
            for (int i = 0; i < zi.length; i++) {
                zi[i] += r.delta()[i];
            }
            z.add(zi);
            steps = Math.max(steps, r.steps());
        }
        WeightDelta total = WeightDelta.none();
        int contexts = 0;
        for (int li = 0; li < layers.length; li++) {
            int layer = layers[li];
            Model current = model.edited(model.delta().then(total));
            List<double[]> keys = new ArrayList<>();
            List<double[]> residuals = new ArrayList<>();
            for (int i = 0; i < edits.size(); i++) {
                double[] h = KeyValueOutputs.residualAtSubject(current, edits.get(i), top);
                double[] r = KeyValueAlgebra.minus(z.get(i), h);
                for (int j = 0; j < r.length; j++) {
                    r[j] /= layers.length - li;
                }
                for (double[] k : SubjectKeys.of(current, edits.get(i), layer, t.prefixes(), seed)) {
                    keys.add(k);
                    residuals.add(r);
                }
            }
            contexts = keys.size() / edits.size();
            double[][] update = solve.update(layer, keys.toArray(double[][]::new), residuals.toArray(double[][]::new));
            total = total.then(DenseUpdates.delta(current, layer, update));
        }
        return new ComputedDelta(total, steps, DenseUpdates.newProbability(model, total, edits.get(0)), contexts);
    }
}
