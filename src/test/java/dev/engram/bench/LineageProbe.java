package dev.engram.bench;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditOptions;
import dev.engram.evaluation.CounterFactScores;
import dev.engram.evaluation.EditRecord;
import dev.engram.evaluation.EvaluationModels;
import dev.engram.runtime.Model;
import dev.engram.verification.GateThresholds;
import dev.engram.verification.VerifiedEdit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public final class LineageProbe {
    public static void main(String[] args) throws Exception {
        Model model = EvaluationModels.load(args[0]);
        List<EditRecord> records = EditRecord.load(model, Path.of(args[1]));
        List<String> sentinels = Files.readAllLines(Path.of("editing/sentinels/smollm2.txt")).stream()
                .filter(s -> !s.isBlank() && !s.startsWith("#")).toList();
        EditOptions options = EditOptions.defaults(EditMethod.valueOf(args[2]), model.config().nLayers());
        Model lineage = model;
        List<EditCase> accepted = new ArrayList<>();
        for (int i = 0; i < Integer.parseInt(args[3]); i++) {
            VerifiedEdit run = VerifiedEdit.run(lineage, records.get(i).edit(), options, GateThresholds.defaults(),
                    sentinels);
            System.out.println(i + " passed " + run.report().passed() + " ES(report) " + run.report().efficacy().success()
                    + " on run.edited " + CounterFactScores.of(run.edited(), List.of(records.get(i).edit())));
            if (run.report().passed()) {
                lineage = run.edited();
                accepted.add(records.get(i).edit());
                System.out.println("   lineage " + lineage.delta() + " accepted on lineage "
                        + CounterFactScores.of(lineage, accepted));
            }
        }
    }
}
