package dev.engram.editing;

import dev.engram.evaluation.EditRecord;
import dev.engram.evaluation.EvaluationModels;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.Trace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How much a subject-neuron edit writes where it should not: over every token but the first of other subjects'
 * prompts (the neighbourhood prompts of the last {@value #OTHER_RECORDS} records of a record file, whose subjects none
 * of the edits has), the output of the edit's new units, Σ_u m_u(x)·d_u with m_u(x) = silu(g_u·x)·(u_u·x), relative to
 * the residual h^l there; for each edit alone and for the edits so far summed (as on a lineage). Each edit is made on
 * the unedited model with the given options. {@code DetectorLeak <model> <records.jsonl> <sharpness> <edits>}:
 * <pre>
 * mvn -B -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.engram.editing.DetectorLeak \
 *     -Dexec.args="smollm2 editing/benchmark/smollm2-dev.jsonl 6 6"
 * </pre>
 */
public final class DetectorLeak {
    private static final int OTHER_RECORDS = 30;

    private DetectorLeak() {
    }

    public static void main(String[] args) throws Exception {
        KeyStatistics.useDirectory(Path.of("models/statistics"));
        Model model = EvaluationModels.load(args[0]);
        List<EditRecord> records = EditRecord.load(model, Path.of(args[1]));
        SubjectNeuronOptions defaults = SubjectNeuronOptions.defaults();
        SubjectNeuronOptions options = new SubjectNeuronOptions(defaults.layer(), defaults.ridge(),
                Double.parseDouble(args[2]), defaults.target());
        int edits = Integer.parseInt(args[3]);
        int layer = (int) Math.round(0.18 * model.config().nLayers());
        List<int[]> others = new ArrayList<>();
        for (EditRecord r : records.subList(records.size() - OTHER_RECORDS, records.size())) {
            others.addAll(r.neighbourhood().subList(0, Math.min(2, r.neighbourhood().size())));
        }
        List<double[]> inputs = SubjectDetector.inputs(model, others, layer, false);
        List<Boolean> first = new ArrayList<>();
        double[] residualNorms = new double[inputs.size()];
        PackedSequences packed = PackedSequences.of(others);
        try (Trace trace = ForwardPass.of(model).trace(packed)) {
            int t = 0;
            for (int s = 0; s < others.size(); s++) {
                for (int i = 0; i < others.get(s).length; i++, t++) {
                    first.add(i == 0);
                    residualNorms[t] = trace.residPost(layer).get(packed.row(s, i)).norm().getFloat();
                }
            }
        }
        int d = model.config().dModel();
        double[][] summed = new double[inputs.size()][d];
        for (int k = 0; k < edits; k++) {
            EditRecord r = records.get(2 * k);
            WeightDelta delta = SubjectNeuronMethod.INSTANCE.computeBatchDelta(model, List.of(r.edit()), options, 0)
                    .delta();
            Model edited = model.edited(delta);
            List<Integer> units = delta.entries().stream().filter(e -> e.param() == Param.FFN_DOWN)
                    .map(WeightDelta.Entry::index).toList();
            double alone = 0;
            int open = 0;
            int counted = 0;
            for (int t = 0; t < inputs.size(); t++) {
                if (first.get(t)) {
                    continue;
                }
                double[] written = new double[d];
                for (int u : units) {
                    double[] gate = vector(edited, layer, Param.FFN_GATE, WeightDelta.Slice.COLUMN, u);
                    double[] up = vector(edited, layer, Param.FFN_UP, WeightDelta.Slice.COLUMN, u);
                    double[] down = vector(edited, layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, u);
                    double m = SubjectDetector.coefficient(gate, up, inputs.get(t));
                    open += KeyValueAlgebra.dot(gate, inputs.get(t)) > -3 ? 1 : 0;
                    for (int i = 0; i < d; i++) {
                        written[i] += m * down[i];
                    }
                }
                alone += Math.sqrt(KeyValueAlgebra.dot(written, written)) / residualNorms[t];
                for (int i = 0; i < d; i++) {
                    summed[t][i] += written[i];
                }
                counted++;
            }
            double sum = 0;
            for (int t = 0; t < inputs.size(); t++) {
                sum += first.get(t) ? 0 : Math.sqrt(KeyValueAlgebra.dot(summed[t], summed[t])) / residualNorms[t];
            }
            System.out.printf("sharpness %s, edit %d (%s): ‖Σ_u m_u d_u‖ / ‖h‖ mean %.5f alone, %.5f for the %d edits "
                    + "summed; gate pre-activation above −3 on %d of %d unit-tokens%n", args[2], k + 1, r.label(),
                    alone / counted, sum / counted, k + 1, open, counted * units.size());
        }
    }

    private static double[] vector(Model model, int layer, Param param, WeightDelta.Slice slice, int index) {
        return ValueTarget.toDoubles(model.weights().vector(new WeightDelta.Key(layer, param, slice, index)));
    }
}
