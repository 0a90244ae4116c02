package dev.engram.bench;

import dev.engram.support.ServerProcess;
import dev.engram.support.Soak;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The hour-long soak of issue 31 (BENCHMARKS.md, "Soak"): the packaged server with the Dockerfile's heap settings, on
 * SmolLM2,
 * under {@link Soak}'s mixed load. Prints every sample, then each resource's growth per hour after the warm-up (the
 * least-squares slope as a share of the mean) and every call's outcome; writes the samples as CSV and a plot as SVG.
 *
 * <p>{@code java -cp target/test-classes:target/classes:<deps> dev.engram.bench.SoakBenchmark <minutes> <warm-up
 * minutes> <sample seconds> <readers> <out prefix>} from the repository root, after {@code mvn package}.
 */
public final class SoakBenchmark {
    private SoakBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        double minutes = Double.parseDouble(args[0]);
        double warmUp = Double.parseDouble(args[1]);
        int every = Integer.parseInt(args[2]);
        int readers = Integer.parseInt(args[3]);
        Path out = Path.of(args[4]);
        Path dir = Path.of("target", "soak-benchmark").toAbsolutePath();
        int port = 9051;
        Soak.Outcome outcome;
        try (ServerProcess server = Soak.startServer(dir, port)) {
            System.out.println(Soak.Sample.header());
            outcome = new Soak(server, port + 100, dir.resolve("store"), dir.resolve("exports"), Soak.edits())
                    .run(Duration.ofSeconds(Math.round(minutes * 60)), Duration.ofSeconds(every), readers, System.out);
        }
        StringBuilder csv = new StringBuilder(Soak.Sample.header()).append('\n');
        outcome.samples().forEach(s -> csv.append(s.csv()).append('\n'));
        Files.writeString(out.resolveSibling(out.getFileName() + ".csv"), csv);
        Files.writeString(out.resolveSibling(out.getFileName() + ".svg"), plot(outcome.samples(), warmUp * 60));

        List<Soak.Sample> steady = outcome.after(warmUp * 60);
        System.out.printf(Locale.ROOT, "after %.0f min of warm-up, %d samples over %.1f min:%n", warmUp, steady.size(),
                (steady.get(steady.size() - 1).seconds() - steady.get(0).seconds()) / 60);
        List<String> names = List.of("rss", "off_heap", "heap_committed", "heap_used", "direct", "threads",
                "open_files", "library_jars", "files_beside_jars", "store_bytes", "ledger_bytes", "export_bytes");
        List<ToLongFunction<Soak.Sample>> values = List.of(Soak.Sample::rss, Soak.Sample::offHeap,
                Soak.Sample::heapCommitted, Soak.Sample::heapUsed, Soak.Sample::direct, Soak.Sample::threads,
                Soak.Sample::openFiles, Soak.Sample::libraryJars, Soak.Sample::openFilesBesideJars,
                Soak.Sample::storeBytes, Soak.Sample::ledgerBytes, Soak.Sample::exportBytes);
        for (int i = 0; i < names.size(); i++) {
            ToLongFunction<Soak.Sample> v = values.get(i);
            System.out.printf(Locale.ROOT, "  %-15s %8.2f %%/h  (first %d, last %d, min %d, max %d)%n", names.get(i),
                    Soak.percentPerHour(steady, v), v.applyAsLong(steady.get(0)),
                    v.applyAsLong(steady.get(steady.size() - 1)), steady.stream().mapToLong(v).min().orElseThrow(),
                    steady.stream().mapToLong(v).max().orElseThrow());
        }
        System.out.println("calls: " + outcome.calls());
        System.out.println("failed (other than admission refusals): " + outcome.failures());
    }

    /** Memory (MB) and counts (threads, open files, library jars) against minutes, the warm-up shaded. */
    static String plot(List<Soak.Sample> samples, double warmUpSeconds) {
        double width = 760;
        double height = 220;
        double left = 60;
        double top = 20;
        double end = samples.get(samples.size() - 1).seconds();
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                + "width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">%n", left + width + 240,
                2 * (height + 50) + 20));
        List<String> memNames = List.of("RSS", "off-heap (RSS - heap committed)", "heap used", "direct buffers");
        List<ToLongFunction<Soak.Sample>> mem = List.of(Soak.Sample::rss, Soak.Sample::offHeap,
                Soak.Sample::heapUsed, Soak.Sample::direct);
        List<String> countNames = List.of("threads", "open files", "of them library jars");
        List<ToLongFunction<Soak.Sample>> counts = List.of(Soak.Sample::threads, Soak.Sample::openFiles,
                Soak.Sample::libraryJars);
        panel(svg, samples, "memory (MB)", memNames, mem, 1e6, left, top, width, height, end, warmUpSeconds);
        panel(svg, samples, "count", countNames, counts, 1, left, top + height + 50, width, height, end,
                warmUpSeconds);
        return svg.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder svg, List<Soak.Sample> samples, String unit, List<String> names,
            List<ToLongFunction<Soak.Sample>> series, double scale, double x0, double y0, double w, double h,
            double end, double warmUp) {
        String[] colours = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
        double max = 0;
        for (ToLongFunction<Soak.Sample> f : series) {
            max = Math.max(max, samples.stream().mapToLong(f).max().orElse(0) / scale);
        }
        max = max * 1.1;
        svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                + "fill=\"#eee\"/>%n", x0, y0, w * warmUp / end, h));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                + "fill=\"none\" stroke=\"#888\"/>%n", x0, y0, w, h));
        for (int t = 0; t <= 4; t++) {
            double y = y0 + h - h * t / 4;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>%n",
                    x0 - 4, y + 4, max * t / 4));
            double x = x0 + w * t / 4;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f min</text>"
                    + "%n", x, y0 + h + 14, end / 60 * t / 4));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", x0, y0 - 6, unit));
        for (int i = 0; i < series.size(); i++) {
            StringBuilder points = new StringBuilder();
            for (Soak.Sample s : samples) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x0 + w * s.seconds() / end,
                        y0 + h - h * (series.get(i).applyAsLong(s) / scale) / max));
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" "
                    + "points=\"%s\"/>%n", colours[i], points.toString().strip()));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s</text>%n", x0 + w + 8,
                    y0 + 14 + 14 * i, colours[i], names.get(i)));
        }
    }
}
