package dev.engram.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The edit benchmark's tables (Markdown) and its numbers, every single edit included (JSON). */
public final class EditBenchmarkReport {
    private final String model;
    private final String recordsFile;
    private final int records;
    private final CounterFactScores.Scores unedited;
    private final double uneditedFluency;
    private final List<EditBenchmark.MethodResult> results;

    public EditBenchmarkReport(String model, String recordsFile, int records, CounterFactScores.Scores unedited,
            double uneditedFluency, List<EditBenchmark.MethodResult> results) {
        this.model = model;
        this.recordsFile = recordsFile;
        this.records = records;
        this.unedited = unedited;
        this.uneditedFluency = uneditedFluency;
        this.results = results;
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "### %s, %s, %d records%n%n", model, recordsFile, records));
        md.append("| method | protocol | edits | ES | PS | NS | RS | S | EM | fluency | gate acceptance "
                + "| params / edit | median ms / edit |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        md.append(row("unedited", "—", records, unedited, uneditedFluency, "—", "0", "—"));
        for (EditBenchmark.MethodResult r : results) {
            List<EditBenchmark.SingleEdit> s = r.singles();
            if (!s.isEmpty()) {
                singleRows(md, r.method(), s);
            }
            if (r.batch() != null) {
                // per fact: the delta alone, then with every fact's verification on the jointly edited model
                int n = Math.max(1, r.batchSize());
                String perFact = r.batchMillis() / n + " (" + r.batchVerifiedMillis() / n + " verified)";
                String passed = r.batchPassed() + " / " + r.batchSize() + " facts";
                md.append(row(r.method(), "one batch", r.batchSize(), r.batch(), Double.NaN, passed, "—", perFact));
                md.append(row(r.method(), "one batch, NS* / RS* over neighbours not edited in it", r.batchSize(),
                        r.batchUntouched(), Double.NaN, passed, "—", perFact));
                md.append(row("unedited", "the same neighbours, the model before the batch", r.batchSize(),
                        r.batchUneditedUntouched(), Double.NaN, "—", "—", "—"));
            }
            if (!r.sequential().isEmpty()) {
                EditBenchmark.SequentialPoint last = r.sequential().get(r.sequential().size() - 1);
                if (last.acceptedScores() != null) {
                    md.append(row(r.method(), "sequential through the gate: accepted edits at the end",
                            last.accepted(), last.acceptedScores(), Double.NaN,
                            last.accepted() + " / " + last.attempted(), "—", "—"));
                }
            }
        }
        md.append("\nSequential edits through the gate (retention of every accepted edit, re-scored on the lineage; NS* "
                + "and RS* leave out the neighbours that are themselves edited on the lineage; the unedited model's NS* "
                + "and RS* are over the same neighbours of the same accepted records):\n\n"
                + "| method | attempted | accepted | ES | PS | NS | RS | NS* | RS* | unedited NS* | unedited RS* |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (EditBenchmark.MethodResult r : results) {
            for (EditBenchmark.SequentialPoint p : r.sequential()) {
                CounterFactScores.Scores a = p.acceptedScores();
                CounterFactScores.Scores u = p.acceptedUntouched();
                CounterFactScores.Scores b = p.uneditedUntouched();
                md.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                        r.method(), p.attempted(), p.accepted(), a == null ? "—" : pct(a.es()),
                        a == null ? "—" : pct(a.ps()), a == null ? "—" : pct(a.ns()), a == null ? "—" : pct(a.rs()),
                        u == null ? "—" : pct(u.ns()), u == null ? "—" : pct(u.rs()), b == null ? "—" : pct(b.ns()),
                        b == null ? "—" : pct(b.rs())));
            }
        }
        return md.toString();
    }

    /** The single edits' rows: all of them, then those the gate accepted. */
    private static void singleRows(StringBuilder md, String method, List<EditBenchmark.SingleEdit> s) {
        long accepted = s.stream().filter(EditBenchmark.SingleEdit::passed).count();
        String acceptance = String.format(Locale.ROOT, "%d / %d (%.1f %%)", accepted, s.size(),
                100.0 * accepted / s.size());
        String params = String.valueOf((long) s.stream().mapToLong(EditBenchmark.SingleEdit::parameters)
                .average().orElse(0));
        String millis = String.valueOf(median(s.stream().mapToLong(EditBenchmark.SingleEdit::millis).toArray()));
        md.append(row(method, "single edits, all", s.size(), mean(s), fluency(s), acceptance, params, millis));
        List<EditBenchmark.SingleEdit> passed = s.stream().filter(EditBenchmark.SingleEdit::passed).toList();
        if (!passed.isEmpty()) {
            md.append(row(method, "single edits the gate accepted (selected by outcome)", passed.size(),
                    mean(passed), fluency(passed), "—", params, millis));
        }
    }

    private static CounterFactScores.Scores mean(List<EditBenchmark.SingleEdit> s) {
        return CounterFactScores.mean(s.stream().map(EditBenchmark.SingleEdit::scores).toList());
    }

    private static double fluency(List<EditBenchmark.SingleEdit> s) {
        return s.stream().mapToDouble(EditBenchmark.SingleEdit::fluency).average().orElse(Double.NaN);
    }

    private static long median(long[] values) {
        if (values.length == 0) {
            return 0;
        }
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String row(String method, String protocol, int edits, CounterFactScores.Scores s, double fluency,
            String acceptance, String params, String millis) {
        return String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                method, protocol, edits, pct(s.es()), pct(s.ps()), pct(s.ns()), pct(s.rs()),
                pct(CounterFactScores.harmonic(s)), Double.isNaN(s.em()) ? "—" : String.format(Locale.ROOT, "%.3f",
                        s.em()), Double.isNaN(fluency) ? "—" : String.format(Locale.ROOT, "%.1f", 100 * fluency),
                acceptance, params, millis);
    }

    private static String pct(double x) {
        return Double.isNaN(x) ? "—" : String.format(Locale.ROOT, "%.1f", 100 * x);
    }

    /** edits-<model>.md and edits-<model>.json in {@code dir}. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        String stem = "edits-" + model + "-" + recordsFile.replace(".jsonl", "");
        Files.writeString(dir.resolve(stem + ".md"), markdown());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model);
        json.put("records_file", recordsFile);
        json.put("records", records);
        json.put("unedited", unedited);
        json.put("unedited_fluency", uneditedFluency);
        json.put("methods", results);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve(stem + ".json").toFile(),
                json);
    }
}
