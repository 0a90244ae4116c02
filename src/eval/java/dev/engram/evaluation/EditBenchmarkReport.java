package dev.engram.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.engram.runtime.load.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The edit benchmark's tables (Markdown), its numbers (JSON) and the sequential-edit curves (SVG). */
public final class EditBenchmarkReport {
    private final String model;
    private final int records;
    private final CounterFactScores.Scores unedited;
    private final List<EditBenchmark.MethodResult> results;

    public EditBenchmarkReport(String model, int records, CounterFactScores.Scores unedited,
            List<EditBenchmark.MethodResult> results) {
        this.model = model;
        this.records = records;
        this.unedited = unedited;
        this.results = results;
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "### %s, %d records%n%n", model, records));
        md.append("| method | protocol | edits | ES | PS | NS | S | fluency | params / edit | median ms / edit |\n"
                + "|---|---|---|---|---|---|---|---|---|---|\n");
        md.append(row("unedited", "—", records, unedited, Double.NaN, 0, 0));
        for (EditBenchmark.MethodResult r : results) {
            List<EditBenchmark.SingleEdit> passed = r.singles().stream().filter(EditBenchmark.SingleEdit::passed)
                    .toList();
            long params = (long) r.singles().stream().mapToLong(EditBenchmark.SingleEdit::parameters).average()
                    .orElse(0);
            md.append(row(r.method(), "single, all", r.singles().size(), mean(r.singles()), fluency(r.singles()),
                    params, median(r.singles())));
            md.append(row(r.method(), "single, passed the gate", passed.size(), mean(passed), fluency(passed), params,
                    median(passed)));
            md.append(row(r.method(), "batch: all single deltas composed", r.singles().size(), r.batch(),
                    Double.NaN, params * r.singles().size(), 0));
            EditBenchmark.SequentialPoint last = r.sequential().get(r.sequential().size() - 1);
            md.append(row(r.method(), "sequential with the gate: accepted " + last.accepted() + " of "
                    + last.attempted(), last.accepted(), last.acceptedScores(), r.finalFluency(), params, 0));
        }
        md.append(String.format(Locale.ROOT, "%nFluency: mean n-gram entropy (bits) of 32-token greedy continuations; "
                + "single edits on their own prompt, the sequential lineage on the first 10 records' prompts "
                + "(unedited: %.3f).%n%n", results.isEmpty() ? Double.NaN : results.get(0).unEditedFluency()));
        md.append("Gate refusals of single edits, by failed gate:\n\n| method | refused | efficacy | generalisation "
                + "| specificity | fluency |\n|---|---|---|---|---|---|\n");
        for (EditBenchmark.MethodResult r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %d of %d | %d | %d | %d | %d |%n", r.method(),
                    r.singles().stream().filter(s -> !s.passed()).count(), r.singles().size(), failed(r, "EFFICACY"),
                    failed(r, "GENERALISATION"), failed(r, "SPECIFICITY"), failed(r, "FLUENCY")));
        }
        md.append("\nSequential edits on one lineage (ES / PS / NS of the accepted records on the current model):\n\n"
                + "| attempted |");
        results.forEach(r -> md.append(" ").append(r.method()).append(": accepted | ES | PS | NS |"));
        md.append("\n|---|").append("---|---|---|---|".repeat(results.size())).append("\n");
        int points = results.isEmpty() ? 0 : results.get(0).sequential().size();
        for (int i = 0; i < points; i++) {
            md.append("| ").append(results.get(0).sequential().get(i).attempted()).append(" |");
            for (EditBenchmark.MethodResult r : results) {
                EditBenchmark.SequentialPoint p = r.sequential().get(i);
                CounterFactScores.Scores s = p.acceptedScores();
                md.append(s == null ? String.format(Locale.ROOT, " %d | — | — | — |", p.accepted())
                        : String.format(Locale.ROOT, " %d | %.1f | %.1f | %.1f |", p.accepted(), 100 * s.es(),
                                100 * s.ps(), 100 * s.ns()));
            }
            md.append("\n");
        }
        return md.toString();
    }

    private static long failed(EditBenchmark.MethodResult r, String gate) {
        return r.singles().stream().filter(s -> s.failedGates().contains(gate)).count();
    }

    private static String row(String method, String protocol, int edits, CounterFactScores.Scores s, double fluency,
            long params, long ms) {
        if (s == null) {
            return String.format(Locale.ROOT, "| %s | %s | %d | — | — | — | — | — | — | — |%n", method, protocol, edits);
        }
        return String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %s | %,d | %s |%n", method,
                protocol, edits, 100 * s.es(), 100 * s.ps(), 100 * s.ns(), 100 * CounterFactScores.harmonic(s),
                Double.isNaN(fluency) ? "—" : String.format(Locale.ROOT, "%.3f", fluency), params,
                ms == 0 ? "—" : String.format(Locale.ROOT, "%,d", ms));
    }

    private static CounterFactScores.Scores mean(List<EditBenchmark.SingleEdit> singles) {
        return singles.isEmpty() ? null
                : CounterFactScores.mean(singles.stream().map(EditBenchmark.SingleEdit::scores).toList());
    }

    private static double fluency(List<EditBenchmark.SingleEdit> singles) {
        return singles.stream().mapToDouble(EditBenchmark.SingleEdit::fluency).average().orElse(Double.NaN);
    }

    private static long median(List<EditBenchmark.SingleEdit> singles) {
        long[] ms = singles.stream().mapToLong(EditBenchmark.SingleEdit::millis).sorted().toArray();
        return ms.length == 0 ? 0 : ms[ms.length / 2];
    }

    public String svg() {
        List<SvgChart.Series> series = new ArrayList<>();
        double[] xs = null;
        for (EditBenchmark.MethodResult r : results) {
            xs = r.sequential().stream().mapToDouble(EditBenchmark.SequentialPoint::attempted).toArray();
            double[] es = r.sequential().stream().mapToDouble(p -> p.acceptedScores() == null ? 0
                    : 100 * p.acceptedScores().es()).toArray();
            double[] ps = r.sequential().stream().mapToDouble(p -> p.acceptedScores() == null ? 0
                    : 100 * p.acceptedScores().ps()).toArray();
            double[] ns = r.sequential().stream().mapToDouble(p -> p.acceptedScores() == null ? 0
                    : 100 * p.acceptedScores().ns()).toArray();
            series.add(new SvgChart.Series(r.method() + " ES", es));
            series.add(new SvgChart.Series(r.method() + " PS", ps));
            series.add(new SvgChart.Series(r.method() + " NS", ns));
        }
        return SvgChart.lines(model + ": sequential edits on one lineage (accepted records, %)", "edits attempted",
                xs == null ? new double[] {0, 1} : xs, series);
    }

    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        String stem = "edits-" + model;
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model);
        json.put("records", records);
        json.put("unedited", unedited);
        json.put("methods", results);
        AtomicFiles.writeString(dir.resolve(stem + ".json"), new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
        AtomicFiles.writeString(dir.resolve(stem + ".md"), markdown());
        AtomicFiles.writeString(dir.resolve(stem + ".svg"), svg());
    }
}
