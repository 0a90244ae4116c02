package dev.engram.service;

import com.google.protobuf.util.JsonFormat;
import dev.engram.editing.EditResult;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.runtime.Model;
import dev.engram.bench.ProcessMemory;
import dev.engram.support.TestModels;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.ParentMemo;
import dev.engram.verification.VerifiedEdit;
import dev.engram.verification.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs every record of an edit batch (JSONL of EditRequest) through both methods, each edit on the unedited model as
 * CounterFact evaluates, and prints ROME's metrics per record and on average, with gates, parameters touched and time.
 * mvn -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.engram.service.EditEvaluation \
 *     -Dexec.args=editing/smollm2-capitals.jsonl
 */
public final class EditEvaluation {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args.length > 0 ? args[0] : "editing/smollm2-capitals.jsonl");
        EngramConfig config = config();
        SentinelPrompts sentinels = new SentinelPrompts(config);
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        // libtorch's intra-op threads as the server sets them (engram.torch-threads): its default, one per core,
        // oversubscribes the cores while verification measures the parent on a second thread
        model("smollm2");
        ai.djl.pytorch.jni.JniUtils.setNumThreads(config.torchThreads());
        unedited(lines, config, sentinels);
        for (EditMethod method : new EditMethod[] {EditMethod.EDIT_METHOD_LEARNED, EditMethod.EDIT_METHOD_CLOSED_FORM}) {
            if (!method.name().contains(System.getProperty("edit.only", ""))) {
                continue;
            }
            double es = 0;
            double ps = 0;
            double ns = 0;
            double fluency = 0;
            double parentFluency = 0;
            long params = 0;
            long ms = 0;
            int passed = 0;
            long peakAdded = 0;
            java.util.List<Long> timesMs = new java.util.ArrayList<>();
            System.out.printf("%n%s%n| subject | ES | PS | NS | fluency (parent) | gates failed | params | ms |%n"
                    + "|---|---|---|---|---|---|---|---|%n", method);
            for (String line : lines) {
                EditRequest.Builder b = EditRequest.newBuilder();
                JsonFormat.parser().merge(line, b);
                b.getOptionsBuilder().setMethod(method);
                overrides(b.getOptionsBuilder());
                EditRequest r = b.build();
                Model parent = model(r.getModel().getName());
                // each edit timed as for a prompt the server has not verified before (the unedited pass above and
                // the other method verified these prompts); -Dedit.warmPrompts=true times a repeated prompt
                ParentMemo memo = Boolean.getBoolean("edit.warmPrompts") ? ParentMemo.shared()
                        : ParentMemo.shared().withoutContinuations();
                System.gc();
                long rssBefore = ProcessMemory.kib("VmRSS");
                ProcessMemory.resetPeak();
                long start = System.nanoTime();
                EditRequests.Checked c = EditRequests.check(r, parent, config);
                VerifiedEdit run = VerifiedEdit.run(parent, c.edit(), c.options(), c.thresholds(),
                        sentinels.of(parent.name()), memo);
                EditResult result = run.result();
                VerificationReport report = run.report();
                long took = (System.nanoTime() - start) / 1_000_000;
                long added = ProcessMemory.kib("VmHWM") - rssBefore;
                peakAdded = Math.max(peakAdded, added);
                timesMs.add(took);
                double e = report.efficacy().success() ? 1 : 0;
                es += e;
                ps += report.paraphraseSuccess().orElse(Double.NaN);
                ns += report.neighbourhoodSuccess().orElse(Double.NaN);
                fluency += report.fluency().editedEntropy();
                parentFluency += report.fluency().parentEntropy();
                params += result.delta().parametersTouched();
                ms += took;
                passed += report.passed() ? 1 : 0;
                System.out.printf("| %s | %.0f | %.2f | %.2f | %.3f (%.3f) | %s | %d | %d |%n",
                        r.getSubject().isEmpty() ? c.prompt() : r.getSubject(), 100 * e,
                        100 * report.paraphraseSuccess().orElse(Double.NaN), 100 * report.neighbourhoodSuccess().orElse(Double.NaN),
                        report.fluency().editedEntropy(), report.fluency().parentEntropy(),
                        report.gates().stream().filter(g -> !g.passed()).map(g -> g.gate() + ": " + g.detail()).toList(),
                        result.delta().parametersTouched(), took);
                System.err.printf("  locate %d ms, edit %d ms (%d steps), verify %d ms; peak RSS added %d MiB%n",
                        result.locateMillis(), result.editMillis(), result.steps(), report.millis(), added / 1024);
            }
            int n = lines.size();
            System.out.printf("| **mean of %d** | %.1f | %.1f | %.1f | %.3f (%.3f) | %d of %d pass | %d | %d |%n", n,
                    100 * es / n, 100 * ps / n, 100 * ns / n, fluency / n, parentFluency / n, passed, n, params / n,
                    ms / n);
            java.util.Collections.sort(timesMs);
            // the median of an even count is the mean of the two middle values
            int mid = timesMs.size() / 2;
            long median = timesMs.size() % 2 == 1 ? timesMs.get(mid) : (timesMs.get(mid - 1) + timesMs.get(mid)) / 2;
            System.out.printf("median %d ms per edit (locate + edit + verify; %s), largest peak RSS added by one edit "
                    + "%d MiB%n", median, timesMs, peakAdded / 1024);
        }
    }

    /** ROME's metrics of the unedited model on the same records (the model verified against itself). */
    private static void unedited(List<String> lines, EngramConfig config, SentinelPrompts sentinels) throws Exception {
        double es = 0;
        double ps = 0;
        double ns = 0;
        for (String line : lines) {
            EditRequest.Builder b = EditRequest.newBuilder();
            JsonFormat.parser().merge(line, b);
            Model parent = model(b.getModel().getName());
            EditRequests.Checked c = EditRequests.check(b.build(), parent, config);
            VerificationReport r = new Verifier(c.thresholds()).verify(parent, parent, c.edit(), sentinels.of(parent.name()));
            es += r.efficacy().success() ? 1 : 0;
            ps += r.paraphraseSuccess().orElse(Double.NaN);
            ns += r.neighbourhoodSuccess().orElse(Double.NaN);
        }
        int n = lines.size();
        System.out.printf("%nunedited model: ES %.1f, PS %.1f, NS %.1f%n", 100 * es / n, 100 * ps / n, 100 * ns / n);
    }

    /** Development overrides (-Dedit.budget, .lr, .kl, .l2, .rep, .exclude-last, .steps, .prefixes). */
    private static void overrides(dev.engram.grpc.v1.EditOptions.Builder o) {
        if (System.getProperty("edit.budget") != null) {
            o.setNeuronBudget(Integer.getInteger("edit.budget"));
        }
        if (System.getProperty("edit.lr") != null) {
            o.setLearningRate(Double.parseDouble(System.getProperty("edit.lr")));
        }
        if (System.getProperty("edit.kl") != null) {
            o.setKlWeight(Double.parseDouble(System.getProperty("edit.kl")));
        }
        if (System.getProperty("edit.l2") != null) {
            o.setL2Weight(Double.parseDouble(System.getProperty("edit.l2")));
        }
        if (System.getProperty("edit.rep") != null) {
            o.setRepetitionWeight(Double.parseDouble(System.getProperty("edit.rep")));
        }
        if (System.getProperty("edit.margin") != null) {
            o.setMargin(Double.parseDouble(System.getProperty("edit.margin")));
        }
        if (System.getProperty("edit.stop") != null) {
            o.setStopProbability(Double.parseDouble(System.getProperty("edit.stop")));
        }
        if (System.getProperty("edit.steps") != null) {
            o.setSteps(Integer.getInteger("edit.steps"));
        }
        if (System.getProperty("edit.prefixes") != null) {
            o.setPrefixes(Integer.getInteger("edit.prefixes"));
        }
        int last = Integer.getInteger("edit.exclude-last", 0);
        for (int l = 30 - last; l < 30; l++) {
            o.addExcludedLayers(l);
        }
    }

    private static Model model(String name) {
        return "stories260K".equals(name) ? TestModels.sharedStories260K() : TestModels.smolLM2();
    }

    /** The server's defaults, without Quarkus. */
    static EngramConfig config() {
        return new EngramConfig() {
            public String defaultModel() {
                return "smollm2";
            }

            public Map<String, ModelSource> models() {
                return Map.of();
            }

            public int maxResponseNeurons() {
                return 20000;
            }

            public int maxBatch() {
                return 1000;
            }

            public int torchThreads() {
                return 1;
            }

            public int predictRunners() {
                return 2;
            }

            public String device() {
                return "cpu";
            }

            public int maxPromptTokens() {
                return 2048;
            }

            public int maxNewTokens() {
                return 1024;
            }

            public int attributionMaxTokens() {
                return 2048;
            }

            public Editing editing() {
                return new Editing() {
                    public int maxParaphrases() {
                        return 20;
                    }

                    public int maxNeighbours() {
                        return 20;
                    }

                    public int maxPromptTokens() {
                        return 256;
                    }

                    public String sentinelsDir() {
                        return "editing/sentinels";
                    }
                };
            }

            public Store store() {
                throw new UnsupportedOperationException("the evaluation commits nothing");
            }

            public Admission admission() {
                throw new UnsupportedOperationException("the evaluation runs one edit at a time");
            }

            public Auth auth() {
                throw new UnsupportedOperationException("the evaluation serves nobody");
            }
        };
    }
}
