package dev.engram.editing;

import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.runtime.Cancellation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Engram's subject-neuron edit: FFN units at the subject's last token are rewritten into detectors of the subject
 * ({@link SubjectDetector}: each unit's gate and up columns, its subkeys) that write ROME's v* there (their down rows,
 * the subvalues). Two units where the prompt is also read behind prefixes: one for the subject opening the text (the
 * plain prompt), one for the subject inside a text (the prefixed contexts), whose FFN inputs differ. The units
 * rewritten are those whose output the corpus relies on least, E[m_j²]·‖W_down[j]‖² from the key statistics, so 3·d
 * weights change per unit and other subjects, which the gates keep shut, are untouched.
 *
 * <p>Many facts at once (a batch) take disjoint units, each fact's computed on the same parent, and each fact's detectors
 * are designed with the batch's other subjects among their negatives, so that they stay shut for them: the facts do
 * not compete for a shared solve as MEMIT's do. When a layer has no
 * units left that no delta touches, a fact's units go to the nearest layer that has ({@link #layerWithRoom}).
 */
public final class SubjectNeuronMethod extends NamedMethod<SubjectNeuronOptions>
        implements BatchEditMethod<SubjectNeuronOptions> {
    public static final SubjectNeuronMethod INSTANCE = new SubjectNeuronMethod();

    private SubjectNeuronMethod() {
        super("SUBJECT_NEURON", SubjectNeuronOptions.class, SubjectNeuronOptions::defaults);
    }

    @Override
    public boolean editsLocatedUnits() {
        return false;
    }

    @Override
    public ComputedDelta computeBatchDelta(Model model, List<EditCase> edits, SubjectNeuronOptions options, long seed) {
        if (!model.config().family().feedForward().gated()) {
            throw new IllegalArgumentException("options.method: SUBJECT_NEURON needs a gated FFN (" + model.config()
                    .family().name() + " has none)");
        }
        int preferred = options.layer() >= 0 ? options.layer() : (int) Math.round(0.18 * model.config().nLayers());
        Set<WeightDelta.Key> taken = new HashSet<>();
        List<Observed> observed = new ArrayList<>();
        for (EditCase edit : edits) {
            Cancellation.checkpoint();
            Observed o = observe(model, edit, layerWithRoom(model, preferred, UNITS, taken), options, seed, taken);
            for (int unit : o.units()) {
                taken.add(new WeightDelta.Key(o.layer(), Param.FFN_DOWN, WeightDelta.Slice.ROW, unit));
            }
            observed.add(o);
        }
        WeightDelta.Builder all = model.deltaBuilder();
        int steps = 0;
        int prompts = 0;
        for (Observed o : observed) {
            // the batch's other subjects at this layer are negatives too, so that no fact's detector fires for another's
            List<double[]> others = new ArrayList<>();
            for (Observed other : observed) {
                if (other != o && other.layer() == o.layer()) {
                    others.addAll(other.positives().subList(0, Math.min(CROSS_INPUTS, other.positives().size())));
                }
            }
            for (WeightDelta.Entry e : written(model, o, others, options).entries()) {
                all.add(e.layer(), e.param(), e.slice(), e.index(), e.change());
            }
            steps += o.target().steps();
            prompts += o.contexts();
        }
        WeightDelta delta = all.build();
        return new ComputedDelta(delta, steps, DenseUpdates.newProbability(model, delta, edits.get(0)), prompts);
    }

    /** Units one fact rewrites: the plain prompt's and the prefixed contexts'. */
    private static final int UNITS = 2;
    /** Inputs of each other fact of a batch its detectors are kept shut for: the plain prompt's and one context's. */
    private static final int CROSS_INPUTS = 2;

    /**
     * What one fact's units are made from, before any detector is designed: its v*, the subject's FFN inputs
     * (positives: the plain prompt's first, then the prefixed contexts'), the other tokens' (negatives), and the units
     * chosen for it at {@code layer}.
     */
    private record Observed(int layer, int[] units, ValueTarget.Result target, List<double[]> positives,
            List<double[]> negatives, int contexts) {
    }

    private static Observed observe(Model model, EditCase edit, int layer, SubjectNeuronOptions options, long seed,
            Set<WeightDelta.Key> taken) {
        TargetOptions t = options.target();
        ValueTarget.Result target = ValueTarget.optimise(model, edit, layer, t, seed);
        int fromEnd = edit.subject().fromEnd(edit.prompt());
        List<int[]> contexts = SubjectDetector.cutAfterSubject(TrainingPrompts.of(model, edit.prompt(), t.prefixes(),
                seed), fromEnd);
        // one pass over the contexts: each one's last token is the subject's (a positive), the tokens before it negatives
        List<double[]> positives = new ArrayList<>();
        List<double[]> negatives = new ArrayList<>(SubjectDetector.inputs(model,
                SubjectDetector.cutAfterSubject(edit.contrasts(), fromEnd), layer, false));
        List<double[]> inContexts = SubjectDetector.inputs(model, contexts, layer, false);
        int at = 0;
        for (int[] c : contexts) {
            negatives.addAll(inContexts.subList(at, at + c.length - 1));
            positives.add(inContexts.get(at + c.length - 1));
            at += c.length;
        }
        int[] units = leastUsed(model, layer, positives.size() > 1 ? 2 : 1, taken);
        return new Observed(layer, units, target, positives, negatives, contexts.size());
    }

    /** One observed fact's delta: its units' subkeys designed against its negatives and {@code others}, and subvalues. */
    private static WeightDelta written(Model model, Observed o, List<double[]> others, SubjectNeuronOptions options) {
        List<double[]> positives = o.positives();
        List<double[]> negatives = new ArrayList<>(o.negatives());
        negatives.addAll(others);
        // the plain prompt's subject may open the text, where the residual differs from inside a text: one unit for
        // each of the two places, so that each fires alike for every input of its own
        List<List<double[]>> clusters = positives.size() > 1
                ? List.of(positives.subList(0, 1), positives.subList(1, positives.size())) : List.of(positives);
        int layer = o.layer();
        int[] chosen = o.units();
        WeightDelta.Builder b = model.deltaBuilder();
        double[][] m = new double[clusters.size()][];
        double[][] old = new double[clusters.size()][];
        float[][] oldDown = new float[clusters.size()][];
        for (int c = 0; c < clusters.size(); c++) {
            SubjectDetector.Subkey key = SubjectDetector.design(clusters.get(c), negatives, options.ridge(),
                    options.sharpness());
            int unit = chosen[c];
            oldDown[c] = model.weights().vector(new WeightDelta.Key(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, unit));
            double[] oldGate = toDoubles(model.weights().vector(new WeightDelta.Key(layer, Param.FFN_GATE,
                    WeightDelta.Slice.COLUMN, unit)));
            double[] oldUp = toDoubles(model.weights().vector(new WeightDelta.Key(layer, Param.FFN_UP,
                    WeightDelta.Slice.COLUMN, unit)));
            m[c] = new double[positives.size()];
            old[c] = new double[positives.size()];
            for (int i = 0; i < positives.size(); i++) {
                m[c][i] = SubjectDetector.coefficient(key.gate(), key.up(), positives.get(i));
                old[c][i] = SubjectDetector.coefficient(oldGate, oldUp, positives.get(i));
            }
            b.add(layer, Param.FFN_GATE, WeightDelta.Slice.COLUMN, unit, change(oldGate, key.gate()));
            b.add(layer, Param.FFN_UP, WeightDelta.Slice.COLUMN, unit, change(oldUp, key.up()));
        }
        double[][] down = subvalues(m, old, oldDown, o.target().delta(), positives.size() - 1);
        for (int c = 0; c < clusters.size(); c++) {
            b.add(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, chosen[c], change(oldDown[c], down[c]));
        }
        return b.build();
    }

    /**
     * {@code preferred} if it has {@code units} units that neither the view's delta nor {@code taken} touches, else the
     * nearest layer that has (preferred + 1, preferred − 1, preferred + 2, …, never the first or the last layer, whose
     * v* has no layer before or after it).
     */
    static int layerWithRoom(Model model, int preferred, int units, Set<WeightDelta.Key> taken) {
        int layers = model.config().nLayers();
        for (int distance = 0; distance < layers; distance++) {
            for (int layer : distance == 0 ? new int[] {preferred} : new int[] {preferred + distance, preferred - distance}) {
                if (layer >= 1 && layer < layers - 1 && free(model, layer, taken) >= units) {
                    return layer;
                }
            }
        }
        throw new IllegalArgumentException("options.method: SUBJECT_NEURON has no FFN units left that no edit uses ("
                + units + " needed per fact)");
    }

    private static int free(Model model, int layer, Set<WeightDelta.Key> taken) {
        int free = 0;
        for (int j = 0; j < model.config().dFfn(); j++) {
            if (unused(model, new WeightDelta.Key(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, j), taken)) {
                free++;
            }
        }
        return free;
    }

    private static boolean unused(Model model, WeightDelta.Key down, Set<WeightDelta.Key> taken) {
        return model.delta().get(down) == null && !taken.contains(down);
    }

    /**
     * The units' new subvalues d_c: over the subject's inputs x_i, least squares of
     * Σ_c m_c(x_i) d_c = δ + Σ_c m_c^old(x_i) d_c^old (the units write δ and no longer what they wrote before), the
     * plain prompt (i = 0) weighted as much as all the prefixed contexts together:
     * d = G⁻¹ R with G_ce = Σ_i w_i m_c(x_i) m_e(x_i) and R_c = Σ_i w_i m_c(x_i) (δ + Σ_e m_e^old(x_i) d_e^old).
     */
    static double[][] subvalues(double[][] m, double[][] old, float[][] oldDown, double[] delta, double plainWeight) {
        int k = m.length;
        int n = m[0].length;
        int d = delta.length;
        double[][] g = new double[k][k];
        double[][] r = new double[k][d];
        for (int i = 0; i < n; i++) {
            double w = i == 0 ? Math.max(1, plainWeight) : 1;
            double[] want = delta.clone();
            for (int e = 0; e < k; e++) {
                for (int j = 0; j < d; j++) {
                    want[j] += old[e][i] * oldDown[e][j];
                }
            }
            for (int c = 0; c < k; c++) {
                for (int e = 0; e < k; e++) {
                    g[c][e] += w * m[c][i] * m[e][i];
                }
                for (int j = 0; j < d; j++) {
                    r[c][j] += w * m[c][i] * want[j];
                }
            }
        }
        for (int c = 0; c < k; c++) {
            g[c][c] *= 1 + 1e-9;
        }
        double[][] gInverse = KeyValueAlgebra.inverse(g);
        double[][] out = new double[k][d];
        for (int c = 0; c < k; c++) {
            for (int e = 0; e < k; e++) {
                for (int j = 0; j < d; j++) {
                    out[c][j] += gInverse[c][e] * r[e][j];
                }
            }
        }
        return out;
    }

    /**
     * The {@code count} units with the smallest E[m_j²]·‖W_down[j]‖² (E[m_j²] = C_jj) among the layer's units that
     * neither the view's delta nor {@code taken} touches: the outputs the corpus relies on least.
     */
    static int[] leastUsed(Model model, int layer, int count, Set<WeightDelta.Key> taken) {
        double[][] c = KeyStatistics.covariance(model, layer);
        java.util.PriorityQueue<double[]> best = new java.util.PriorityQueue<>((x, y) -> Double.compare(y[0], x[0]));
        for (int j = 0; j < c.length; j++) {
            WeightDelta.Key down = new WeightDelta.Key(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, j);
            if (!unused(model, down, taken)) {
                continue;
            }
            float[] row = model.weights().vector(down);
            double norm = 0;
            for (float v : row) {
                norm += v * v;
            }
            best.add(new double[] {c[j][j] * norm, j});
            if (best.size() > count) {
                best.poll(); // the costliest of those kept
            }
        }
        return best.stream().sorted((x, y) -> Double.compare(x[0], y[0])).mapToInt(x -> (int) x[1]).toArray();
    }

    static float[] change(float[] old, double[] updated) {
        return change(toDoubles(old), updated);
    }

    static float[] change(double[] old, double[] updated) {
        float[] out = new float[old.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (updated[i] - old[i]);
        }
        return out;
    }

    private static double[] toDoubles(float[] f) {
        return ValueTarget.toDoubles(f);
    }
}
