package dev.engram.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.engram.runtime.load.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes one model's faithfulness result as a Markdown table, a JSON file and an SVG plot. */
public final class FaithfulnessReport {
    private final FaithfulnessRun.Result result;
    private final List<ConditionSummary> summaries = new ArrayList<>();

    public FaithfulnessReport(FaithfulnessRun.Result result) {
        this.result = result;
        List<GoldMetrics> base = result.byCondition().get(FaithfulnessRun.UNINTERVENED);
        result.byCondition().forEach((c, m) -> summaries.add(ConditionSummary.of(c, m, base)));
    }

    public List<ConditionSummary> summaries() {
        return summaries;
    }

    public ConditionSummary summary(String condition) {
        return summaries.stream().filter(s -> s.condition().equals(condition)).findFirst().orElseThrow();
    }

    /** The FFN top-k condition of {@code method}. */
    public ConditionSummary summary(FfnRankingMethod method) {
        return summary("FFN top-" + result.sizes().ffnTop() + ": " + method.label());
    }

    /**
     * The paper's claim, per metric: zeroing the top-k by log-prob increase lowers the gold token's MRR, probability
     * and log-probability more than zeroing the top-k of any other method does.
     */
    public Map<String, List<String>> methodsNotBeaten() {
        ConditionSummary ours = summary(FfnRankingMethod.LOG_PROB_INCREASE);
        Map<String, List<String>> out = new LinkedHashMap<>();
        out.put("MRR", new ArrayList<>());
        out.put("probability", new ArrayList<>());
        out.put("log-probability", new ArrayList<>());
        for (FfnRankingMethod m : FfnRankingMethod.values()) {
            if (m == FfnRankingMethod.LOG_PROB_INCREASE) {
                continue;
            }
            ConditionSummary other = summary(m);
            if (other.mrr() <= ours.mrr()) {
                out.get("MRR").add(m.label());
            }
            if (other.probability() <= ours.probability()) {
                out.get("probability").add(m.label());
            }
            if (other.logProbability() <= ours.logProbability()) {
                out.get("log-probability").add(m.label());
            }
        }
        return out;
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "### %s%n%nProbes kept by the filter (gold in the top-10 and above the "
                + "other candidates of its type):%n%n| type | kept | written |%n|---|---|---|%n", result.model()));
        int kept = 0;
        int total = 0;
        for (Map.Entry<String, int[]> e : result.keptOfTotal().entrySet()) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %d |%n", e.getKey(), e.getValue()[0], e.getValue()[1]));
            kept += e.getValue()[0];
            total += e.getValue()[1];
        }
        md.append(String.format(Locale.ROOT, "| **all** | %d | %d |%n%n", kept, total));
        md.append("Zeroing neurons at the last position (value neurons) or where they write (query neurons); the gold "
                + "token's MRR, probability and log-probability, mean over the kept probes, and their % decrease:\n\n"
                + "| condition | MRR | ↓ % | probability | ↓ % | log-prob | ↓ % |\n|---|---|---|---|---|---|---|\n");
        for (ConditionSummary s : summaries) {
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.1f | %.2f%% | %.1f | %.3f | %.1f |%n",
                    s.condition(), s.mrr(), s.mrrDecrease(), 100 * s.probability(), s.probabilityDecrease(),
                    s.logProbability(), s.logProbabilityDecrease()));
        }
        md.append(String.format(Locale.ROOT, "%nSizes: FFN top-%d; value neurons %d attention + %d FFN; %d query "
                + "neurons. %d s on this machine.%n%n", result.sizes().ffnTop(), result.sizes().attentionValues(),
                result.sizes().ffnValues(), result.sizes().queryNeurons(), result.seconds()));
        Map<String, List<String>> notBeaten = methodsNotBeaten();
        boolean all = notBeaten.values().stream().allMatch(List::isEmpty);
        md.append(all ? "Log-prob increase beats every baseline on every metric.\n\n"
                : "Log-prob increase does **not** beat every baseline: " + notBeaten + " (baselines at least as good).\n\n");
        md.append("Module-level summary: Σ over the kept probes of Imp(A^l) and Imp(F^l), all layers:\n\n"
                + "| type | probes | Σ attention | Σ FFN | FFN share |\n|---|---|---|---|---|\n");
        for (Map.Entry<String, double[][]> e : result.moduleSums().entrySet()) {
            double a = java.util.Arrays.stream(e.getValue()[0]).sum();
            double f = java.util.Arrays.stream(e.getValue()[1]).sum();
            md.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %.0f%% |%n", e.getKey(),
                    result.probesPerType().get(e.getKey()), a, f, 100 * f / (Math.abs(a) + Math.abs(f))));
        }
        md.append("\nPer layer (attention / FFN, summed over each type's probes):\n\n| layer |");
        result.moduleSums().keySet().forEach(t -> md.append(" ").append(t).append(" |"));
        md.append("\n|---|").append("---|".repeat(result.moduleSums().size())).append("\n");
        int layers = result.moduleSums().values().iterator().next()[0].length;
        for (int l = 0; l < layers; l++) {
            md.append("| ").append(l).append(" |");
            for (double[][] sums : result.moduleSums().values()) {
                md.append(String.format(Locale.ROOT, " %.2f / %.2f |", sums[0][l], sums[1][l]));
            }
            md.append("\n");
        }
        return md.toString();
    }

    public String svg() {
        List<String> labels = summaries.stream().filter(s -> !s.condition().equals(FaithfulnessRun.UNINTERVENED))
                .map(ConditionSummary::condition).toList();
        List<ConditionSummary> rows = summaries.stream()
                .filter(s -> !s.condition().equals(FaithfulnessRun.UNINTERVENED)).toList();
        return SvgChart.bars(result.model() + ": % decrease of the gold token after zeroing", labels, List.of(
                new SvgChart.Series("MRR", rows.stream().mapToDouble(ConditionSummary::mrrDecrease).toArray()),
                new SvgChart.Series("probability", rows.stream().mapToDouble(ConditionSummary::probabilityDecrease)
                        .toArray()),
                new SvgChart.Series("log-probability", rows.stream()
                        .mapToDouble(ConditionSummary::logProbabilityDecrease).toArray())), "%");
    }

    /** Per layer, attention and FFN summed over the types. */
    public String moduleSvg() {
        int layers = result.moduleSums().values().iterator().next()[0].length;
        double[] attention = new double[layers];
        double[] ffn = new double[layers];
        double[] xs = new double[layers];
        for (double[][] sums : result.moduleSums().values()) {
            for (int l = 0; l < layers; l++) {
                attention[l] += sums[0][l];
                ffn[l] += sums[1][l];
                xs[l] = l;
            }
        }
        return SvgChart.lines(result.model() + ": Σ layer scores over all kept probes", "layer", xs, List.of(
                new SvgChart.Series("attention Imp(A^l)", attention), new SvgChart.Series("FFN Imp(F^l)", ffn)));
    }

    /** Writes {@code faithfulness-<model>.md}, {@code .json}, {@code .svg} and {@code -layers.svg} under {@code dir}. */
    public void write(Path dir) throws IOException {
        String stem = "faithfulness-" + result.model();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", result.model());
        json.put("sizes", result.sizes());
        json.put("kept_of_written", result.keptOfTotal());
        json.put("summaries", summaries);
        json.put("module_sums", result.moduleSums());
        json.put("probes_per_type", result.probesPerType());
        json.put("log_prob_increase_not_beaten_by", methodsNotBeaten());
        json.put("seconds", result.seconds());
        byte[] body = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json);
        java.nio.file.Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve(stem + ".json"), new String(body, StandardCharsets.UTF_8));
        AtomicFiles.writeString(dir.resolve(stem + ".md"), markdown());
        AtomicFiles.writeString(dir.resolve(stem + ".svg"), svg());
        AtomicFiles.writeString(dir.resolve(stem + "-layers.svg"), moduleSvg());
    }
}
