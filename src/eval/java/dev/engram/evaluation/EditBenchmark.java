package dev.engram.evaluation;

import dev.engram.editing.BatchEditMethod;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EarlierEdit;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.editing.SampledCorpus;
import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import dev.engram.verification.EarlierEdits;
import dev.engram.verification.GateResult;
import dev.engram.verification.GateThresholds;
import dev.engram.verification.NgramEntropy;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.VerifiedBatch;
import dev.engram.verification.VerifiedEdit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The edit benchmark as one command:
 * {@code EditBenchmark <model[=path]> <records.jsonl[,more.jsonl]> [--methods learned,closed_form,rome,memit,alpha_edit]
 * [--limit N] [--stride K] [--labels "Paris|Rome"] [--singles false] [--sequential N] [--every 50] [--batch N]
 * [--generation-tokens 100] [--journal file.jsonl [--measure false]] [--sequential-journal dir] [--options json]
 * [--out dir]}
 * (--limit: the first N records, after taking every K-th with --stride; --labels: only records whose label starts with
 * one of these; --singles false: only the batch and the sequential protocol; --journal: the single edits record by
 * record, every method on each, kept in a {@link SingleEditJournal} so that a run of many hours continues where it
 * stopped, at the same commit; --measure false: report what the journal holds, measuring nothing; --sequential-journal:
 * each method's lineage kept in a {@link SequentialJournal} under dir/METHOD, so that a sequence of a thousand edits
 * continues where it stopped, at the same commit; --options: a request's EditOptions JSON for the method it names, in
 * place of its defaults). For each method, with its default options (or --options) and
 * the server's default gate:
 * <ul>
 * <li>single edits: each record edited on the unedited model and scored there (CounterFact's protocol); the gate's
 * verdict is recorded beside the scores, which cover every edit, accepted or not;</li>
 * <li>a batch (methods that batch): the first N records in one solve, each verified by its own gate on the jointly
 * edited model as a joint BatchEdit does ({@link VerifiedBatch}), scored together;</li>
 * <li>sequential edits on one lineage through the gate: each record edited and verified on the model the accepted
 * edits so far left (the retention gate re-scoring a sample of them, as the server does), applied only when accepted; every {@code every} attempts, every accepted record is scored again
 * on the lineage (retention).</li>
 * </ul>
 * Fluency is ROME's generation entropy: each record's generation prompts continued by top-5 sampling (seeded) for
 * {@code generation-tokens} tokens, mean(2/3·H₂, 4/3·H₃) of the words.
 */
public final class EditBenchmark {
    private static final int TOP_K = 5;

    /** One single edit on the unedited model. */
    public record SingleEdit(String record, CounterFactScores.Scores scores, double fluency, boolean passed,
            List<String> failedGates, int sameObjectFound, int relationFound, long parameters, long millis) {
    }

    /** The lineage after {@code attempted} sequential edits, {@code accepted} of them committed. */
    public record SequentialPoint(int attempted, int accepted, CounterFactScores.Scores acceptedScores,
            CounterFactScores.Scores acceptedUntouched, CounterFactScores.Scores uneditedUntouched) {
    }

    /**
     * Everything one method produced; {@code batchUntouched} and a sequential point's {@code acceptedUntouched} score
     * NS and RS over the neighbours that are not themselves edited ({@link EditRecord#withoutNeighboursEditedIn});
     * {@code batchUneditedUntouched} is the unedited model over the same neighbours, what they are read against;
     * {@code batchMillis} is the batch's delta, {@code batchVerifiedMillis} the delta and every fact's verification
     * on the jointly edited model, {@code batchPassed} the facts whose own gate passed there.
     */
    public record MethodResult(String method, List<SingleEdit> singles, CounterFactScores.Scores batch,
            CounterFactScores.Scores batchUntouched, CounterFactScores.Scores batchUneditedUntouched, int batchSize,
            long batchMillis, long batchVerifiedMillis, int batchPassed, List<SequentialPoint> sequential) {
    }

    /** The records with the neighbours that are edited among them left out. */
    private static List<EditRecord> untouched(List<EditRecord> edited) {
        return edited.stream().map(r -> r.withoutNeighboursEditedIn(edited)).toList();
    }

    private final Model model;
    private final List<EditRecord> records;
    private final List<String> sentinels;
    private final int generationTokens;
    private final GateThresholds thresholds = GateThresholds.defaults();
    /** Options a run gives instead of a method's defaults, by method name (--options: a request's EditOptions JSON). */
    private final Map<String, EditOptions> optionsByMethod;

    public EditBenchmark(Model model, List<EditRecord> records, List<String> sentinels, int generationTokens) {
        this(model, records, sentinels, generationTokens, Map.of());
    }

    private EditBenchmark(Model model, List<EditRecord> records, List<String> sentinels, int generationTokens,
            Map<String, EditOptions> optionsByMethod) {
        this.model = model;
        this.records = records;
        this.sentinels = sentinels;
        this.generationTokens = generationTokens;
        this.optionsByMethod = optionsByMethod;
    }

    /** This benchmark with {@code options} for the method they choose, as a request's EditOptions JSON gives them. */
    EditBenchmark withOptions(String json) throws IOException {
        dev.engram.grpc.v1.EditOptions.Builder proto = dev.engram.grpc.v1.EditOptions.newBuilder();
        com.google.protobuf.util.JsonFormat.parser().merge(json, proto);
        EditOptions o = dev.engram.service.EditRequests.options(proto.build(), model.config(), true);
        return new EditBenchmark(model, records, sentinels, generationTokens, Map.of(o.method().name(), o));
    }

    /** The options {@code method} runs with: those given for it, or its defaults. */
    private EditOptions options(EditMethod<?> method) {
        return optionsByMethod.getOrDefault(method.name(), EditOptions.defaults(method, model.config().nLayers()));
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = FaithfulnessEvaluation.flags(Arrays.copyOfRange(args, 1, args.length));
        Model model = EvaluationModels.load(args[0]);
        // the key-value methods' statistics, kept between runs as the server keeps them in its store
        dev.engram.editing.KeyStatistics.useDirectory(Path.of("models/statistics"));
        // several record files, comma-separated, run as one list in that order (the test set, then the scale records)
        List<EditRecord> all = new ArrayList<>();
        for (String file : args[1].split(",")) {
            all.addAll(EditRecord.load(model, Path.of(file)));
        }
        int stride = Integer.parseInt(flags.getOrDefault("stride", "1"));
        List<EditRecord> strided = new ArrayList<>();
        for (int i = 0; i < all.size(); i += stride) {
            strided.add(all.get(i));
        }
        if (flags.containsKey("labels")) {
            List<String> wanted = List.of(flags.get("labels").split("\\|"));
            strided.removeIf(r -> wanted.stream().noneMatch(w -> r.label().startsWith(w)));
        }
        List<EditRecord> records = strided.subList(0, Math.min(strided.size(),
                Integer.parseInt(flags.getOrDefault("limit", String.valueOf(strided.size())))));
        Path sentinelFile = Path.of("editing/sentinels/" + model.name() + ".txt");
        List<String> sentinels = Files.exists(sentinelFile) ? Files.readAllLines(sentinelFile).stream()
                .filter(s -> !s.isBlank() && !s.startsWith("#")).toList() : List.of();
        EditBenchmark bench = new EditBenchmark(model, records, sentinels,
                Integer.parseInt(flags.getOrDefault("generation-tokens", "100")));
        if (flags.containsKey("options")) {
            bench = bench.withOptions(flags.get("options"));
        }
        List<EditMethod<?>> methods = Arrays.stream(flags.getOrDefault("methods",
                "learned,closed_form,rome,memit,alpha_edit").split(",")).<EditMethod<?>>map(EditMethods::named).toList();
        boolean singles = Boolean.parseBoolean(flags.getOrDefault("singles", "true"));
        Map<String, List<SingleEdit>> journaled = null;
        if (singles && flags.containsKey("journal")) {
            journaled = bench.singlesByRecord(methods, SingleEditJournal.open(Path.of(flags.get("journal")),
                    SourceCommit.clean()), Boolean.parseBoolean(flags.getOrDefault("measure", "true")));
            // a journal stopped part-way reports the records every method has finished, side by side
            bench = bench.of(journaled.values().iterator().next().stream().map(SingleEdit::record).toList());
        }
        List<MethodResult> results = new ArrayList<>();
        for (EditMethod<?> m : methods) {
            // --sequential-journal DIR: each method's lineage continued across processes, in DIR/<METHOD>/
            SequentialJournal lineage = flags.containsKey("sequential-journal") ? SequentialJournal.open(
                    Path.of(flags.get("sequential-journal"), m.name()), SourceCommit.clean(), m.name()) : null;
            results.add(bench.run(m, journaled != null ? journaled.get(m.name()) : singles ? null : List.of(),
                    Integer.parseInt(flags.getOrDefault("batch", "0")),
                    Integer.parseInt(flags.getOrDefault("sequential", "0")),
                    Integer.parseInt(flags.getOrDefault("every", "50")), lineage));
        }
        EditBenchmarkReport report = new EditBenchmarkReport(bench.model.name(),
                Arrays.stream(args[1].split(",")).map(f -> Path.of(f).getFileName().toString())
                        .collect(java.util.stream.Collectors.joining("+")), bench.records.size(), bench.unedited(),
                bench.fluency(model), results);
        report.write(Path.of(flags.getOrDefault("out", "docs/evaluation")));
        System.out.println(report.markdown());
    }

    /** The unedited model's scores on the records: the floor of ES and PS, the ceiling of NS and RS. */
    public CounterFactScores.Scores unedited() {
        return CounterFactScores.mean(CounterFactScores.of(model, records));
    }

    /**
     * Every protocol for {@code method}; {@code singles} are its single edits measured already (null: measure them
     * here, one record after another).
     */
    public MethodResult run(EditMethod<?> method, List<SingleEdit> singles, int batchSize, int sequential, int every) {
        return run(method, singles, batchSize, sequential, every, null);
    }

    /** {@link #run(EditMethod, List, int, int, int)} with the sequential protocol continued from {@code journal}. */
    MethodResult run(EditMethod<?> method, List<SingleEdit> singles, int batchSize, int sequential, int every,
            SequentialJournal journal) {
        EditOptions options = options(method);
        if (singles == null) {
            singles = records.stream().map(r -> single(method, r)).toList();
        }
        CounterFactScores.Scores batch = null;
        CounterFactScores.Scores batchUntouched = null;
        CounterFactScores.Scores batchReference = null;
        long batchMillis = 0;
        long batchVerifiedMillis = 0;
        int batchPassed = 0;
        int batched = Math.min(batchSize, records.size());
        if (method instanceof BatchEditMethod<?> && batched > 0) {
            List<EditRecord> first = records.subList(0, batched);
            long start = System.nanoTime();
            // as a joint BatchEdit runs it: one delta, each fact verified by its own gate on the jointly edited model
            VerifiedBatch run = VerifiedBatch.run(model, first.stream().map(EditRecord::edit).toList(), options,
                    java.util.Collections.nCopies(batched, thresholds), sentinels);
            batchVerifiedMillis = (System.nanoTime() - start) / 1_000_000;
            batchMillis = run.result().editMillis();
            batchPassed = (int) run.reports().stream().filter(VerificationReport::passed).count();
            Model edited = run.edited();
            batch = CounterFactScores.mean(CounterFactScores.of(edited, first));
            batchUntouched = CounterFactScores.mean(CounterFactScores.of(edited, untouched(first)));
            batchReference = CounterFactScores.mean(CounterFactScores.of(model, untouched(first)));
            System.err.printf("%s batch of %d: %s; delta %d ms, with verification %d ms, %d facts passed their gate;"
                    + " over neighbours not edited in it: %s%n", method, batched, batch, batchMillis,
                    batchVerifiedMillis, batchPassed, batchUntouched);
        }
        return new MethodResult(method.name(), singles, batch, batchUntouched, batchReference, batched, batchMillis,
                batchVerifiedMillis, batchPassed,
                sequential(options, Math.min(sequential, records.size()), every, journal));
    }

    /** One record edited by {@code method} on the unedited model, verified, and scored there. */
    SingleEdit single(EditMethod<?> method, EditRecord r) {
        long start = System.nanoTime();
        VerifiedEdit run = VerifiedEdit.run(model, r.edit(), options(method),
                thresholds, sentinels);
        long verifiedMillis = (System.nanoTime() - start) / 1_000_000;
        VerificationReport rep = run.report();
        CounterFactScores.Scores scores = CounterFactScores.of(run.edited(), List.of(r)).get(0);
        SingleEdit edit = new SingleEdit(r.label(), scores, fluency(run.edited(), List.of(r)), rep.passed(),
                rep.failedGates().stream().map(GateResult.Gate::name).toList(), rep.sameObject().size(),
                rep.relationNeighbours().size(), run.result().delta().parametersTouched(),
                run.result().editMillis() + run.result().locateMillis());
        printRefusals(rep);
        System.err.printf("%s single %s: %s (%d ms with verification, %d ms with the benchmark's scoring)%n", method,
                r.label(), edit, verifiedMillis, (System.nanoTime() - start) / 1_000_000);
        return edit;
    }

    /** Each gate that refused, with its detail, on standard error. */
    private static void printRefusals(VerificationReport report) {
        report.gates().stream().filter(g -> !g.passed()).forEach(g -> System.err.println("  gate " + g));
    }

    /**
     * The single edits of every method, record by record (every method on the first record, then on the second, …),
     * each taken from {@code journal} when it holds it and, when {@code measure}, measured and journaled otherwise; per
     * method, the edits of the records every method has finished, in record order. A run stopped part-way so covers
     * the same records for every method, and continues where it stopped.
     */
    Map<String, List<SingleEdit>> singlesByRecord(List<EditMethod<?>> methods, SingleEditJournal journal,
            boolean measure) {
        Map<String, List<SingleEdit>> out = new java.util.LinkedHashMap<>();
        methods.forEach(m -> out.put(m.name(), new ArrayList<>()));
        for (EditRecord r : records) {
            List<SingleEdit> each = new ArrayList<>();
            for (EditMethod<?> m : methods) {
                SingleEdit edit = journal.get(m.name(), r.label());
                if (edit == null && measure) {
                    edit = single(m, r);
                    journal.append(m.name(), edit);
                }
                each.add(edit);
            }
            if (!each.contains(null)) {
                for (int k = 0; k < methods.size(); k++) {
                    out.get(methods.get(k).name()).add(each.get(k));
                }
            }
        }
        return out;
    }

    /** The records by label. */
    private Map<String, EditRecord> byLabel() {
        Map<String, EditRecord> out = new java.util.HashMap<>();
        records.forEach(r -> out.put(r.label(), r));
        return out;
    }

    /** This benchmark on the records labelled {@code labels}, in that order. */
    EditBenchmark of(List<String> labels) {
        Map<String, EditRecord> byLabel = byLabel();
        return new EditBenchmark(model, labels.stream().map(byLabel::get).toList(), sentinels, generationTokens,
                optionsByMethod);
    }

    /**
     * One lineage through the gate, {@code count} attempts, every accepted edit re-scored every {@code every}; with a
     * {@code journal} (may be null), continued from the attempts, accepted records, lineage and points it holds, and
     * each attempt and point journaled as it finishes.
     */
    private List<SequentialPoint> sequential(EditOptions options, int count, int every, SequentialJournal journal) {
        List<SequentialPoint> curve = new ArrayList<>(journal == null ? List.of() : journal.points());
        WeightDelta journaled = journal == null ? null : journal.lineage(model.config());
        Model lineage = journaled == null ? model : model.edited(journaled);
        List<EditRecord> accepted = new ArrayList<>();
        List<EarlierEdit> earlier = new ArrayList<>();
        Map<String, EditRecord> byLabel = byLabel();
        for (String label : journal == null ? List.<String>of() : journal.accepted()) {
            EditRecord r = byLabel.get(label);
            accepted.add(r);
            earlier.add(new EarlierEdit(r.edit().prompt(), r.edit().targetNew(), r.edit().targetTrue()));
        }
        int from = journal == null ? 0 : journal.attempts();
        if (from > 0 && (from % every == 0 || from == count)
                && (curve.isEmpty() || curve.get(curve.size() - 1).attempted() != from)) {
            curve.add(point(from, lineage, accepted, journal)); // killed between an attempt and its point
        }
        for (int i = from; i < count; i++) {
            long start = System.nanoTime();
            EditCase edit = records.get(i).edit();
            // the retention gate re-scores a sample of the accepted edits, as the server does on a lineage
            VerifiedEdit run = VerifiedEdit.run(lineage, edit.withEarlier(EarlierEdits.sample(earlier,
                    thresholds.earlierEditChecks(), i)), options, thresholds, sentinels);
            if (run.report().passed()) {
                lineage = run.edited();
                accepted.add(records.get(i));
                earlier.add(new EarlierEdit(edit.prompt(), edit.targetNew(), edit.targetTrue()));
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            System.err.printf("%s sequential edit %d %s: %s %s (%d ms with verification)%n", options.method(), i + 1,
                    records.get(i).label(), run.report().passed() ? "accepted" : "refused",
                    run.report().failedGates(), millis);
            printRefusals(run.report());
            if (journal != null) {
                journal.attempt(i + 1, records.get(i).label(), run.report().passed(), run.report().failedGates()
                        .stream().map(GateResult.Gate::name).toList(), millis, run.report().passed()
                        ? lineage.delta() : null);
            }
            if ((i + 1) % every == 0 || i + 1 == count) {
                curve.add(point(i + 1, lineage, accepted, journal));
                System.err.printf("%s sequential: %s%n", options.method(), curve.get(curve.size() - 1));
            }
        }
        return curve;
    }

    /**
     * Every accepted edit re-scored on the lineage after {@code attempted} attempts, and the unedited model on the same
     * untouched neighbours (what NS* and RS* are to be read against: the accepted records change from point to point);
     * journaled when there is one.
     */
    private SequentialPoint point(int attempted, Model lineage, List<EditRecord> accepted, SequentialJournal journal) {
        SequentialPoint p = new SequentialPoint(attempted, accepted.size(), accepted.isEmpty() ? null
                : CounterFactScores.mean(CounterFactScores.of(lineage, accepted)), accepted.isEmpty() ? null
                : CounterFactScores.mean(CounterFactScores.of(lineage, untouched(accepted))), accepted.isEmpty() ? null
                : CounterFactScores.mean(CounterFactScores.of(model, untouched(accepted))));
        if (journal != null) {
            journal.point(p);
        }
        return p;
    }

    /** ROME's generation entropy: mean over the records' generation prompts of the sampled text's n-gram entropy. */
    public double fluency(Model view, List<EditRecord> of) {
        List<int[]> prompts = of.stream().flatMap(r -> r.generation().stream()).toList();
        List<int[]> all = SampledCorpus.continued(view, prompts, generationTokens, TOP_K, new Random(1));
        double sum = 0;
        for (int k = 0; k < prompts.size(); k++) {
            int[] generated = Arrays.copyOfRange(all.get(k), prompts.get(k).length, all.get(k).length);
            sum += NgramEntropy.of(view.tokenizer().decode(generated));
        }
        return sum / prompts.size();
    }

    /** The unedited model's fluency over every record. */
    double fluency(Model view) {
        return fluency(view, records);
    }
}
