package dev.engram.evaluation;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.inference.GreedyGenerator;
import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import dev.engram.verification.GateResult;
import dev.engram.verification.GateThresholds;
import dev.engram.verification.NgramEntropy;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.VerifiedEdit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The edit benchmark as one command:
 * {@code EditBenchmark <model[=path]> <records.jsonl> [--methods learned,closed_form] [--every 10] [--limit N]
 * [--out dir]} (--limit: the first N records only).
 * For each method, with the server's default options and gate:
 * <ul>
 * <li>single edits: each record edited and verified on the unedited model (CounterFact's protocol);</li>
 * <li>a batch: every single edit's delta composed into one model, scored on all records at once;</li>
 * <li>sequential edits on one lineage, each made and verified on the model the previous accepted edit left; edits the
 * gate refuses are not applied; ES, PS and NS of the accepted records are tracked as edits accumulate.</li>
 * </ul>
 */
public final class EditBenchmark {
    private static final int FLUENCY_PROMPTS = 10;

    /** One single edit on the unedited model. */
    public record SingleEdit(String record, CounterFactScores.Scores scores, double fluency, double parentFluency,
            boolean passed, List<String> failedGates, long parameters, long millis) {
    }

    /** The lineage after {@code attempted} sequential edits, {@code accepted} of them committed. */
    public record SequentialPoint(int attempted, int accepted, CounterFactScores.Scores acceptedScores) {
    }

    /** Everything one method produced. */
    public record MethodResult(String method, List<SingleEdit> singles, CounterFactScores.Scores batch,
            List<SequentialPoint> sequential, double finalFluency, double unEditedFluency) {
    }

    private final Model model;
    private final List<EditRecord> records;
    private final List<String> sentinels;
    private final GateThresholds thresholds = GateThresholds.defaults();

    public EditBenchmark(Model model, List<EditRecord> records, List<String> sentinels) {
        this.model = model;
        this.records = records;
        this.sentinels = sentinels;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = FaithfulnessEvaluation.flags(Arrays.copyOfRange(args, 1, args.length));
        Model model = EvaluationModels.load(args[0]);
        List<EditRecord> all = EditRecord.load(model, Path.of(args[1]));
        List<EditRecord> records = all.subList(0, Math.min(all.size(),
                Integer.parseInt(flags.getOrDefault("limit", String.valueOf(all.size())))));
        Path sentinelFile = Path.of("editing/sentinels/" + model.name() + ".txt");
        List<String> sentinels = Files.exists(sentinelFile) ? Files.readAllLines(sentinelFile).stream()
                .filter(s -> !s.isBlank() && !s.startsWith("#")).toList() : List.of();
        EditBenchmark bench = new EditBenchmark(model, records, sentinels);
        CounterFactScores.Scores unedited = bench.unedited();
        List<MethodResult> results = new ArrayList<>();
        for (String m : flags.getOrDefault("methods", "learned,closed_form").split(",")) {
            results.add(bench.run(EditMethods.named(m),
                    Integer.parseInt(flags.getOrDefault("every", "10"))));
        }
        EditBenchmarkReport report = new EditBenchmarkReport(model.name(), records.size(), unedited, results);
        report.write(Path.of(flags.getOrDefault("out", "docs/evaluation")));
        System.out.println(report.markdown());
    }

    /** ES, PS and NS of the unedited model on the records: the floor of ES and PS, the ceiling of NS. */
    public CounterFactScores.Scores unedited() {
        return CounterFactScores.mean(CounterFactScores.of(model, edits(records)));
    }

    public MethodResult run(EditMethod<?> method, int every) {
        EditOptions options = EditOptions.defaults(method, model.config().nLayers());
        List<SingleEdit> singles = new ArrayList<>();
        WeightDelta all = WeightDelta.none();
        for (EditRecord r : records) {
            long start = System.nanoTime();
            VerifiedEdit run = VerifiedEdit.run(model, r.edit(), options, thresholds, sentinels);
            long millis = (System.nanoTime() - start) / 1_000_000;
            VerificationReport rep = run.report();
            singles.add(new SingleEdit(r.label(), new CounterFactScores.Scores(rep.efficacy().success() ? 1 : 0,
                    rep.paraphraseSuccess().orElse(Double.NaN), rep.neighbourhoodSuccess().orElse(Double.NaN)), rep.fluency().editedEntropy(),
                    rep.fluency().parentEntropy(), rep.passed(),
                    rep.failedGates().stream().map(GateResult.Gate::name).toList(),
                    run.result().delta().parametersTouched(), millis));
            all = all.then(run.result().delta());
            System.err.printf("%s single %s: %s%n", method, r.label(), singles.get(singles.size() - 1));
        }
        CounterFactScores.Scores batch = CounterFactScores.mean(CounterFactScores.of(model.edited(all), edits(records)));

        List<SequentialPoint> curve = new ArrayList<>();
        Model lineage = model;
        List<EditCase> accepted = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            VerifiedEdit run = VerifiedEdit.run(lineage, records.get(i).edit(), options, thresholds, sentinels);
            if (run.report().passed()) {
                lineage = run.edited();
                accepted.add(records.get(i).edit());
            }
            if ((i + 1) % every == 0 || i + 1 == records.size()) {
                curve.add(new SequentialPoint(i + 1, accepted.size(), accepted.isEmpty() ? null
                        : CounterFactScores.mean(CounterFactScores.of(lineage, accepted))));
                System.err.printf("%s sequential: %s%n", method, curve.get(curve.size() - 1));
            }
        }
        double[] fluency = fluency(List.of(lineage, model));
        return new MethodResult(method.name(), singles, batch, curve, fluency[0], fluency[1]);
    }

    /**
     * Mean n-gram entropy of greedy continuations of the first records' prompts, per model: the models are views of
     * one base (the edited lineage and the unedited model), decoded side by side ({@link GreedyGenerator#generateEach}).
     */
    private double[] fluency(List<Model> views) {
        double[] sum = new double[views.size()];
        int n = Math.min(FLUENCY_PROMPTS, records.size());
        for (int i = 0; i < n; i++) {
            int[] prompt = records.get(i).edit().prompt();
            List<int[]> all = GreedyGenerator.generateEach(views, prompt, thresholds.fluencyTokens());
            for (int k = 0; k < views.size(); k++) {
                int[] generated = Arrays.copyOfRange(all.get(k), prompt.length, all.get(k).length);
                sum[k] += NgramEntropy.of(views.get(k).tokenizer().decode(generated));
            }
        }
        for (int k = 0; k < sum.length; k++) {
            sum[k] /= n;
        }
        return sum;
    }

    private static List<EditCase> edits(List<EditRecord> records) {
        return records.stream().map(EditRecord::edit).toList();
    }
}
