package dev.engram.support;

import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ExportCheckpointRequest;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.RollbackRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A soak of one server process on SmolLM2: {@code readers} clients loop over Predict, LocateFact and ProposeEdit, and
 * one editor client loops Rollback → ApplyEdit (two edits, alternating, always on the base: the store holds a bounded
 * set of content-addressed checkpoints) with an Export every fourth round (the server keeps the last few). A sampler
 * reads the process's RSS and threads ({@code /proc/<pid>/status}), its open files ({@code /proc/<pid>/fd}), the JVM
 * heap and direct buffers (its Prometheus metrics), and on disk the store's checkpoint files, its embedded ledger and
 * the exports.
 */
public final class Soak {
    public static final String MODEL = "smollm2";
    private static final List<String> COUNTRIES = List.of("France", "Japan", "Spain", "Germany", "Italy", "Egypt",
            "Canada", "Brazil");

    /**
     * One reading, at {@code seconds} since the start. {@code libraryJars} counts the open files that are the packaged
     * application's library jars ({@code quarkus-app/lib/main}): after boot, Quarkus's class loader keeps those a few
     * libraries hold and at most four more, the ones it read classes from last, closing one as it opens another.
     */
    public record Sample(double seconds, long rss, long heapUsed, long heapCommitted, long direct, long threads,
            long openFiles, long storeBytes, long ledgerBytes, long exportBytes, long libraryJars) {
        /** What the process holds outside the Java heap: libtorch, thread stacks, metaspace, code, direct buffers. */
        public long offHeap() {
            return rss - heapCommitted;
        }

        /** Open files other than the library jars. */
        public long openFilesBesideJars() {
            return openFiles - libraryJars;
        }

        public static String header() {
            return "seconds,rss,heap_used,heap_committed,direct,off_heap,threads,open_files,store_bytes,ledger_bytes,"
                    + "export_bytes,library_jars";
        }

        public String csv() {
            return String.format(java.util.Locale.ROOT, "%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", seconds, rss,
                    heapUsed, heapCommitted, direct, offHeap(), threads, openFiles, storeBytes, ledgerBytes,
                    exportBytes, libraryJars);
        }
    }

    /** The samples, and every call's outcome: operation → status code → count. */
    public record Outcome(List<Sample> samples, Map<String, Map<String, Long>> calls) {
        /** Calls that ended with neither OK nor an admission refusal (RESOURCE_EXHAUSTED), by operation and status. */
        public Map<String, Long> failures() {
            Map<String, Long> out = new TreeMap<>();
            calls.forEach((op, byStatus) -> byStatus.forEach((status, n) -> {
                if (!status.equals("OK") && !status.equals("RESOURCE_EXHAUSTED")) {
                    out.merge(op + " " + status, n, Long::sum);
                }
            }));
            return out;
        }

        public long ok(String op) {
            return calls.getOrDefault(op, Map.of()).getOrDefault("OK", 0L);
        }

        /** The samples from {@code fromSeconds} on. */
        public List<Sample> after(double fromSeconds) {
            return samples.stream().filter(s -> s.seconds() >= fromSeconds).toList();
        }
    }

    /**
     * The packaged server with the Dockerfile's JVM memory settings (-Xms512m -Xmx512m -XX:MaxDirectMemorySize=64g: a
     * fixed heap, so that resident memory moves only with what lies outside it; glibc's
     * default malloc arenas, where the image sets MALLOC_ARENA_MAX=2), its store and exports under {@code dir}, keeping
     * the last two exports; its HTTP (metrics) port is {@code port + 100}.
     */
    public static ServerProcess startServer(Path dir, int port) throws IOException, InterruptedException {
        dev.engram.runtime.load.AtomicFiles.deleteTree(dir);
        Files.createDirectories(dir);
        return ServerProcess.start(dir.resolve("store"), port, List.of("-Xms512m", "-Xmx512m", "-XX:MaxDirectMemorySize=64g",
                "engram.store.export-dir=" + dir.resolve("exports"), "engram.store.export-keep-last=2"));
    }

    /** Two SmolLM2 capital edits (closed form, the gate loosened: the soak is about the server, not edit quality). */
    public static List<EditRequest> edits() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("editing", "smollm2-capitals.jsonl"));
        List<EditRequest> out = new ArrayList<>();
        for (String line : lines.subList(0, 2)) {
            EditRequest.Builder b = EditRequest.newBuilder();
            com.google.protobuf.util.JsonFormat.parser().merge(line, b);
            b.getOptionsBuilder().setMethod(dev.engram.grpc.v1.EditMethod.EDIT_METHOD_CLOSED_FORM);
            b.getThresholdsBuilder().setMaxNeighbourFlips(16).setMaxNeighbourKl(10).setMaxSameObjectLosses(16)
                    .setMaxSentinelFlips(22).setMaxFluencyDrop(1);
            out.add(b.build());
        }
        return out;
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final ServerProcess server;
    private final int httpPort;
    private final Path store;
    private final Path exports;
    private final Map<String, Map<String, AtomicLong>> calls = new ConcurrentHashMap<>();
    private final List<EditRequest> edits;
    private volatile boolean running = true;

    public Soak(ServerProcess server, int httpPort, Path store, Path exports, List<EditRequest> edits) {
        this.server = server;
        this.httpPort = httpPort;
        this.store = store;
        this.exports = exports;
        this.edits = edits;
    }

    /** Runs for {@code length} with {@code readers} reading clients and one editor, sampling every {@code every}. */
    public Outcome run(Duration length, Duration every, int readers, java.io.PrintStream progress)
            throws InterruptedException, IOException {
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
            long seed = i;
            clients.add(new Thread(() -> reader(new Random(seed)), "soak-reader-" + i));
        }
        clients.add(new Thread(this::editor, "soak-editor"));
        clients.forEach(Thread::start);
        List<Sample> samples = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + length.toNanos();
        try {
            while (true) {
                Sample s = sample((System.nanoTime() - start) / 1e9);
                samples.add(s);
                if (progress != null) {
                    progress.println(s.csv());
                }
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                Thread.sleep(Math.min(every.toMillis(), TimeUnit.NANOSECONDS.toMillis(end - now) + 1));
            }
        } finally {
            running = false;
            for (Thread t : clients) {
                t.join(TimeUnit.MINUTES.toMillis(10));
            }
        }
        Map<String, Map<String, Long>> counted = new TreeMap<>();
        calls.forEach((op, byStatus) -> byStatus.forEach((status, n) -> counted.computeIfAbsent(op,
                k -> new TreeMap<>()).put(status, n.get())));
        return new Outcome(samples, counted);
    }

    private <T> void call(String op, Supplier<T> body) {
        String status;
        try {
            body.get();
            status = "OK";
        } catch (StatusRuntimeException e) {
            status = e.getStatus().getCode().name();
            if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
                System.err.println("soak: " + op + " " + e.getStatus());
            }
        }
        calls.computeIfAbsent(op, k -> new ConcurrentHashMap<>()).computeIfAbsent(status, k -> new AtomicLong())
                .incrementAndGet();
    }

    private static ModelRef model() {
        return ModelRef.newBuilder().setName(MODEL).build();
    }

    private void reader(Random random) {
        ManagedChannel channel = server.channel();
        try {
            while (running) {
                String country = COUNTRIES.get(random.nextInt(COUNTRIES.size()));
                String prompt = "The capital of " + country + " is";
                double pick = random.nextDouble();
                if (pick < 0.6) {
                    call("Predict", () -> ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120,
                            TimeUnit.SECONDS).predict(PredictRequest.newBuilder().setModel(model()).setPrompt(prompt)
                            .setTopK(5).build()));
                } else if (pick < 0.85) {
                    call("LocateFact", () -> AttributionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300,
                            TimeUnit.SECONDS).locateFact(LocateFactRequest.newBuilder().setModel(model())
                            .setPrompt(prompt).setTopK(10).build()));
                } else {
                    EditRequest edit = edits.get(random.nextInt(edits.size()));
                    call("ProposeEdit", () -> EditServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300,
                            TimeUnit.SECONDS).proposeEdit(ProposeEditRequest.newBuilder().setEdit(edit).build()));
                }
            }
        } finally {
            channel.shutdownNow();
        }
    }

    private void editor() {
        ManagedChannel channel = server.channel();
        try {
            EditServiceGrpc.EditServiceBlockingStub stub = EditServiceGrpc.newBlockingStub(channel);
            for (int round = 0; running; round++) {
                EditRequest edit = edits.get(round % edits.size()).toBuilder()
                        .setModel(ModelRef.newBuilder().setName(MODEL).setCheckpoint("base")).build();
                call("Rollback", () -> stub.withDeadlineAfter(60, TimeUnit.SECONDS).rollback(RollbackRequest
                        .newBuilder().setModel(MODEL).setTo("base").build()));
                call("ApplyEdit", () -> stub.withDeadlineAfter(300, TimeUnit.SECONDS).applyEdit(ApplyEditRequest
                        .newBuilder().setEdit(edit).build()));
                if (round % 4 == 0) {
                    String name = "soak-" + round;
                    call("Export", () -> stub.withDeadlineAfter(600, TimeUnit.SECONDS).exportCheckpoint(
                            ExportCheckpointRequest.newBuilder().setModel(model()).setName(name).build()));
                }
            }
        } finally {
            channel.shutdownNow();
        }
    }

    private Sample sample(double seconds) throws IOException, InterruptedException {
        long pid = server.pid();
        Map<String, Long> status = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            String[] f = line.split("\\s+");
            if (line.startsWith("VmRSS:")) {
                status.put("rss", Long.parseLong(f[1]) * 1024);
            } else if (line.startsWith("Threads:")) {
                status.put("threads", Long.parseLong(f[1]));
            }
        }
        long files = openFiles(pid);
        String metrics = metrics();
        return new Sample(seconds, status.get("rss"), metric(metrics, "jvm_memory_used_bytes{area=\"heap\""),
                metric(metrics, "jvm_memory_committed_bytes{area=\"heap\""),
                metric(metrics, "jvm_buffer_memory_used_bytes{id=\"direct\""), status.get("threads"), files,
                bytes(store) - ledgerBytes(), ledgerBytes(), bytes(exports), libraryJars());
    }

    /** Of the descriptors read last, those open on the packaged application's library jars. */
    private long libraryJars() {
        return lastFiles.entrySet().stream().filter(e -> LIBRARY_JAR.matcher(e.getKey()).matches())
                .mapToLong(Map.Entry::getValue).sum();
    }

    private static final java.util.regex.Pattern LIBRARY_JAR = java.util.regex.Pattern.compile(
            ".*/quarkus-app/lib/main/[^/]+\\.jar");

    /** What the server's descriptors pointed at in the last sample (sockets and pipes by kind only), with counts. */
    private Map<String, Integer> lastFiles = Map.of();

    /**
     * The server's open descriptors, counted; whatever they point at differently from the last sample is logged
     * ("soak: open files +target -target"), so that a count that grows names its source.
     */
    private long openFiles(long pid) throws IOException {
        Map<String, Integer> now = new TreeMap<>();
        long count = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                count++;
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString().replaceAll(":\\[\\d+\\]$", "");
                } catch (IOException closedMeanwhile) {
                    continue;
                }
                now.merge(target, 1, Integer::sum);
            }
        }
        if (!lastFiles.isEmpty() && !now.equals(lastFiles)) {
            StringBuilder change = new StringBuilder("soak: open files");
            java.util.Set<String> targets = new java.util.TreeSet<>(now.keySet());
            targets.addAll(lastFiles.keySet());
            for (String t : targets) {
                int d = now.getOrDefault(t, 0) - lastFiles.getOrDefault(t, 0);
                if (d != 0) {
                    change.append(d > 0 ? " +" : " -").append(Math.abs(d) > 1 ? Math.abs(d) + "x " : "").append(t);
                }
            }
            System.err.println(change);
        }
        lastFiles = now;
        return count;
    }

    /** The server's Prometheus metrics; a failed scrape is retried twice, a second apart, and logged. */
    private String metrics() throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
                        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
            } catch (IOException e) {
                System.err.println("soak: metrics scrape " + attempt + " failed: " + e);
                if (attempt == 3) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }

    /** The sum of a Prometheus series' values over the lines that start with {@code prefix}. */
    private static long metric(String metrics, String prefix) {
        return (long) metrics.lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** The embedded ledger's files in the store directory (H2's {@code ledger.*}). */
    private long ledgerBytes() throws IOException {
        long total = 0;
        try (Stream<Path> files = Files.list(store)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("ledger.")).toList()) {
                try {
                    total += Files.size(p);
                } catch (java.nio.file.NoSuchFileException gone) {
                    // a temporary file of the database, gone meanwhile
                }
            }
        }
        return total;
    }

    /** The bytes of the files under {@code dir}; a directory that vanishes mid-walk (an export pruned) walks again. */
    private static long bytes(Path dir) throws IOException {
        while (true) {
            if (!Files.isDirectory(dir)) {
                return 0;
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                long total = 0;
                for (Path p : walk.filter(Files::isRegularFile).toList()) {
                    try {
                        total += Files.size(p);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        // removed meanwhile (a staging file renamed, an export pruned)
                    }
                }
                return total;
            } catch (java.io.UncheckedIOException gone) {
                // a directory vanished mid-walk: walk again
            }
        }
    }

    /**
     * Growth per hour of {@code value} over {@code samples}: the least-squares slope, in percent of the mean per hour.
     */
    public static double percentPerHour(List<Sample> samples, java.util.function.ToLongFunction<Sample> value) {
        double n = samples.size();
        double mt = samples.stream().mapToDouble(Sample::seconds).sum() / n;
        double mv = samples.stream().mapToDouble(value::applyAsLong).sum() / n;
        double num = 0;
        double den = 0;
        for (Sample s : samples) {
            num += (s.seconds() - mt) * (value.applyAsLong(s) - mv);
            den += (s.seconds() - mt) * (s.seconds() - mt);
        }
        return mv == 0 ? 0 : 100 * (num / den) * 3600 / mv;
    }
}
