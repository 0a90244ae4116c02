package dev.engram.editing;

import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import java.util.ArrayList;
import java.util.List;

/**
 * Engram's subject-neuron edit: one FFN unit at the subject's last token is rewritten into a detector of the subject
 * ({@link SubjectDetector}: its gate and up columns, the subkey) that writes ROME's v* there (its down row, the
 * subvalue). The unit rewritten is the one whose output the corpus relies on least, E[m_j²]·‖W_down[j]‖² from the key
 * statistics, so 3·d weights change and other subjects, which the gate keeps shut, are untouched.
 */
public final class SubjectNeuronMethod extends NamedMethod<SubjectNeuronOptions> {
    public static final SubjectNeuronMethod INSTANCE = new SubjectNeuronMethod();

    private SubjectNeuronMethod() {
        super("SUBJECT_NEURON", SubjectNeuronOptions.class, SubjectNeuronOptions::defaults);
    }

    @Override
    public boolean editsLocatedUnits() {
        return false;
    }

    @Override
    public ComputedDelta computeDelta(Model model, EditCase edit, List<EditUnit> units, SubjectNeuronOptions options,
            long seed) {
        if (!model.config().family().feedForward().gated()) {
            throw new IllegalArgumentException("options.method: SUBJECT_NEURON needs a gated FFN (" + model.config()
                    .family().name() + " has none)");
        }
        int layer = options.layer() >= 0 ? options.layer() : (int) Math.round(0.18 * model.config().nLayers());
        TargetOptions t = options.target();
        ValueTarget.Result target = ValueTarget.optimise(model, edit, layer, t, seed);
        int fromEnd = edit.subject().fromEnd(edit.prompt());
        List<int[]> contexts = SubjectDetector.cutAfterSubject(TrainingPrompts.of(model, edit.prompt(), t.prefixes(),
                seed), fromEnd);
        List<double[]> positives = SubjectDetector.inputs(model, contexts, layer, true);
        List<double[]> negatives = new ArrayList<>(SubjectDetector.inputs(model,
                SubjectDetector.cutAfterSubject(edit.contrasts(), fromEnd), layer, false));
        List<int[]> before = new ArrayList<>();
        for (int[] c : contexts) {
            if (c.length > 1) {
                before.add(java.util.Arrays.copyOf(c, c.length - 1));
            }
        }
        negatives.addAll(SubjectDetector.inputs(model, before, layer, false));
        SubjectDetector.Subkey key = SubjectDetector.design(positives, negatives, options.ridge(), options.sharpness());
        int unit = leastUsed(model, layer);
        float[] oldDown = model.weights().vector(new WeightDelta.Key(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, unit));
        float[] oldGate = model.weights().vector(new WeightDelta.Key(layer, Param.FFN_GATE, WeightDelta.Slice.COLUMN,
                unit));
        float[] oldUp = model.weights().vector(new WeightDelta.Key(layer, Param.FFN_UP, WeightDelta.Slice.COLUMN, unit));
        // the new subvalue: m_new(x*)·d_new − m_old(x*)·d_old = δ at the subject's mean input
        double[] muP = new double[positives.get(0).length];
        for (double[] x : positives) {
            for (int i = 0; i < muP.length; i++) {
                muP[i] += x[i] / positives.size();
            }
        }
        double oldCoefficient = SubjectDetector.coefficient(toDoubles(oldGate), toDoubles(oldUp), muP);
        float[] downChange = new float[oldDown.length];
        for (int i = 0; i < downChange.length; i++) {
            double newDown = (target.delta()[i] + oldCoefficient * oldDown[i]) / key.subjectCoefficient();
            downChange[i] = (float) (newDown - oldDown[i]);
        }
        WeightDelta delta = model.deltaBuilder()
                .add(layer, Param.FFN_GATE, WeightDelta.Slice.COLUMN, unit, change(oldGate, key.gate()))
                .add(layer, Param.FFN_UP, WeightDelta.Slice.COLUMN, unit, change(oldUp, key.up()))
                .add(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, unit, downChange)
                .build();
        return new ComputedDelta(delta, target.steps(), DenseUpdates.newProbability(model, delta, edit),
                contexts.size());
    }

    /** argmin_j E[m_j²]·‖W_down[j]‖² over the layer's units (E[m_j²] = C_jj), among units no delta touches yet. */
    static int leastUsed(Model model, int layer) {
        double[][] c = KeyStatistics.covariance(model, layer);
        int best = -1;
        double bestCost = Double.POSITIVE_INFINITY;
        for (int j = 0; j < c.length; j++) {
            WeightDelta.Key down = new WeightDelta.Key(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, j);
            if (model.delta().get(down) != null) {
                continue;
            }
            float[] row = model.weights().vector(down);
            double norm = 0;
            for (float v : row) {
                norm += v * v;
            }
            double cost = c[j][j] * norm;
            if (cost < bestCost) {
                bestCost = cost;
                best = j;
            }
        }
        return best;
    }

    private static float[] change(float[] old, double[] updated) {
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
