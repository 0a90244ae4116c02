package dev.engram.bench;

import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.ClosedFormOptions;
import dev.engram.editing.EditOptions;
import dev.engram.editing.LearnedOptions;
import dev.engram.editing.MethodOptions;
import java.util.Map;
import java.util.function.Supplier;
import dev.engram.evaluation.EditRecord;
import dev.engram.evaluation.EvaluationModels;
import dev.engram.runtime.Model;
import dev.engram.verification.GateThresholds;
import dev.engram.verification.NeighbourCheck;
import dev.engram.verification.SentinelCheck;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.VerifiedEdit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Development probe for the edit methods on the hand-written DEV records (never the evaluation records in editing/):
 * each record's ES, PS, NS, the sentinels it flips, its largest neighbour and sentinel KL, its fluency drop and its
 * delta norm, then the means. Options come from system properties (probe.method, probe.stop, probe.lr, probe.l2,
 * probe.kl, probe.contrast, probe.rep, probe.kinds (e.g. ffn,attention), probe.steps, probe.budget, probe.prefixes,
 * probe.margin).
 * <pre>
 * mvn -q -o test-compile exec:java -DskipModelFetch -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.engram.bench.EditProbe -Dprobe.method=learned
 * </pre>
 */
public final class EditProbe {
    public static void main(String[] args) throws Exception {
        Model model = EvaluationModels.load(System.getProperty("probe.model", "smollm2"));
        // as the server runs (engram.torch-threads, default 1): one intra-op thread per call, since verification
        // already runs the parent's side on a second thread
        ai.djl.pytorch.jni.JniUtils.setNumThreads(Integer.getInteger("probe.threads", 1));
        List<EditRecord> records = EditRecord.load(model,
                Path.of(System.getProperty("probe.records", "src/test/resources/dev/smollm2-dev.jsonl")));
        List<String> sentinels = Files.readAllLines(Path.of("editing/sentinels/" + model.name() + ".txt")).stream()
                .filter(s -> !s.isBlank() && !s.startsWith("#")).toList();
        EditOptions options = options(model);
        System.out.println(options);
        GateThresholds thresholds = GateThresholds.defaults();
        double es = 0, ps = 0, ns = 0, kl = 0, passed = 0, millis = 0;
        for (EditRecord r : records) {
            long start = System.nanoTime();
            VerifiedEdit run = VerifiedEdit.run(model, r.edit(), options, thresholds, sentinels);
            long ms = (System.nanoTime() - start) / 1_000_000;
            VerificationReport rep = run.report();
            double maxNeighbourKl = rep.neighbours().stream().mapToDouble(NeighbourCheck::kl).max().orElse(0);
            double maxSentinelKl = rep.sentinels().stream().mapToDouble(SentinelCheck::kl).max().orElse(0);
            long flipped = rep.sentinels().stream().filter(s -> !s.kept()).count();
            System.out.printf(Locale.ROOT, "%-55s ES %d PS %.2f NS %.2f | sentinels flipped %d KL max %.3f | "
                    + "neighbour KL max %.3f | fluency drop %+.2f | norm %.3f steps %d | %d ms (locate %d, edit %d) %s%n",
                    r.label(), rep.efficacy().success() ? 1 : 0, rep.paraphraseSuccess().orElse(Double.NaN), rep.neighbourhoodSuccess().orElse(Double.NaN),
                    flipped, maxSentinelKl, maxNeighbourKl, rep.fluency().relativeDrop(),
                    run.result().delta().norm(), run.result().steps(), ms, run.result().locateMillis(),
                    run.result().editMillis(),
                    rep.passed() ? "PASS" : "FAIL " + rep.failedGates());
            es += rep.efficacy().success() ? 1 : 0;
            ps += rep.paraphraseSuccess().orElse(Double.NaN);
            ns += rep.neighbourhoodSuccess().orElse(Double.NaN);
            kl += maxNeighbourKl;
            passed += rep.passed() ? 1 : 0;
            millis += ms;
        }
        int n = records.size();
        System.out.printf(Locale.ROOT, "MEAN ES %.1f PS %.1f NS %.1f neighbour KL max %.3f passed %d of %d, %.0f ms%n",
                100 * es / n, 100 * ps / n, 100 * ns / n, kl / n, (int) passed, n, millis / n);
    }

    private static EditOptions options(Model model) {
        EditMethod<?> method = EditMethods.named(System.getProperty("probe.method", "learned"));
        EditOptions d = EditOptions.defaults(method, model.config().nLayers());
        java.util.Set<dev.engram.attribution.NeuronKind> kinds = System.getProperty("probe.kinds") == null ? d.kinds()
                : java.util.Arrays.stream(System.getProperty("probe.kinds").split(","))
                        .map(k -> dev.engram.attribution.NeuronKind.valueOf(k.trim().toUpperCase(Locale.ROOT)))
                        .collect(java.util.stream.Collectors.toSet());
        return new EditOptions(methodOptions(method), Integer.getInteger("probe.budget", d.neuronBudget()), kinds,
                d.excludedLayers(), d.seed());
    }

    /** Per method, its defaults with any of them overridden by -Dprobe.* properties. */
    private static final Map<EditMethod<?>, Supplier<MethodOptions>> OVERRIDDEN = Map.of(
            EditMethods.LEARNED, () -> {
                LearnedOptions l = LearnedOptions.defaults();
                return new LearnedOptions(Integer.getInteger("probe.steps", l.maxSteps()),
                        number("probe.lr", l.learningRate()), number("probe.stop", l.stopProbability()),
                        number("probe.kl", l.klWeight()), number("probe.contrast", l.contrastWeight()),
                        number("probe.l2", l.l2Weight()), number("probe.rep", l.repetitionWeight()),
                        Integer.getInteger("probe.prefixes", l.prefixes()));
            },
            EditMethods.CLOSED_FORM, () -> {
                ClosedFormOptions c = ClosedFormOptions.defaults();
                return new ClosedFormOptions(Integer.getInteger("probe.steps", c.maxSolves()),
                        number("probe.margin", c.margin()));
            });

    private static MethodOptions methodOptions(EditMethod<?> method) {
        return OVERRIDDEN.getOrDefault(method, () -> method.defaults()).get();
    }

    private static double number(String property, double fallback) {
        return Double.parseDouble(System.getProperty(property, String.valueOf(fallback)));
    }
}
