package dev.engram.evaluation;

import dev.engram.editing.AlphaEditOptions;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Editor;
import dev.engram.editing.KeyStatistics;
import dev.engram.runtime.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * AlphaEdit's null-space threshold chosen on development records only:
 * {@code AlphaEditSweep <model> <dev.jsonl> <records> <threshold>...} prints ES, PS, NS, RS of single edits at each
 * threshold (relative to the mean eigenvalue of C), the first {@code records} records taken at an even stride.
 */
public final class AlphaEditSweep {
    private AlphaEditSweep() {
    }

    public static void main(String[] args) throws Exception {
        Model model = EvaluationModels.load(args[0]);
        KeyStatistics.useDirectory(Path.of("models/statistics"));
        List<EditRecord> all = EditRecord.load(model, Path.of(args[1]));
        int n = Integer.parseInt(args[2]);
        List<EditRecord> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            records.add(all.get(i * all.size() / n));
        }
        for (int a = 3; a < args.length; a++) {
            double threshold = Double.parseDouble(args[a]);
            AlphaEditOptions d = AlphaEditOptions.defaults();
            EditOptions options = EditOptions.defaults(EditMethods.ALPHA_EDIT, model.config().nLayers())
                    .withMethodOptions(new AlphaEditOptions(d.layers(), threshold, d.l2Weight(), d.target()));
            List<CounterFactScores.Scores> scores = new ArrayList<>();
            for (EditRecord r : records) {
                Editor editor = new Editor(model);
                scores.add(CounterFactScores.of(editor.apply(editor.edit(r.edit(), options)), List.of(r)).get(0));
            }
            System.out.printf("threshold %s: %s%n", threshold, CounterFactScores.mean(scores));
        }
    }
}
