package dev.engram.bench;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.support.ServerProcess;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A load generator against the packaged server on loopback: Predict, LocateFact and ProposeEdit on one model, at 1, 4
 * and 16 clients, each client calling back to back until its count or the phase's time runs out; then 32 clients
 * mixing all three while one more client times lone Predicts. Prints p50, p99 and throughput of the calls that
 * succeeded, how many were refused (RESOURCE_EXHAUSTED; a refused client backs off before its next call, see
 * {@link #backOff}), and the server's peak resident memory per phase.
 * <p>
 * {@code mvn -B package -DskipTests && mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=dev.engram.bench.LoadBenchmark -Dexec.args="smollm2 20 50"} (model, seconds per phase, most calls
 * per client and phase); a fourth argument {@code mixed} runs only the 32-client mix beside the lone Predicts, on a
 * fresh server. {@code -Dload.server=a=b,c=d} passes system properties to the server.
 */
public final class LoadBenchmark {
    private static final int PORT = 9013;
    private static final AtomicLong SEEDS = new AtomicLong();

    private record Result(List<Long> okNanos, int refused, int failed, double seconds, long peakKib) {
        String row(String name, int clients) {
            List<Long> sorted = new ArrayList<>(okNanos);
            Collections.sort(sorted);
            return String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %.2f | %d | %d | %.2f |", name, clients,
                    sorted.size(), ms(sorted, 0.50), ms(sorted, 0.99), sorted.size() / seconds, refused, failed,
                    peakKib / 1048576.0);
        }
    }

    /**
     * What a well-behaved client does after RESOURCE_EXHAUSTED: wait before its next call, exponentially longer after
     * each refusal in a row (base × 2^(n−1), at most 8× base), with ±50% jitter so that refused clients do not return
     * together. {@code -Dload.backoff-ms=0} retries at once (a client that turns every refusal into another call).
     */
    private static void backOff(int refusedInARow) throws InterruptedException {
        long base = Long.getLong("load.backoff-ms", 250);
        if (base <= 0) {
            return;
        }
        long wait = base << Math.min(3, refusedInARow - 1);
        Thread.sleep(wait / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(wait));
    }

    private static String ms(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return "—";
        }
        int i = Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1);
        return String.format(Locale.ROOT, "%.0f", sorted.get(Math.max(0, i)) / 1e6);
    }

    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "smollm2";
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int maxCalls = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        Path store = Path.of("target", "load-store-" + ProcessHandle.current().pid()).toAbsolutePath();
        boolean mixedOnly = args.length > 3 && "mixed".equals(args[3]);
        List<String> serverProperties = System.getProperty("load.server", "").isBlank() ? List.of()
                : List.of(System.getProperty("load.server").split(","));
        try (ServerProcess server = ServerProcess.start(store, PORT, serverProperties)) {
            ManagedChannel channel = server.channel();
            String pid = String.valueOf(server.pid());
            ModelRef ref = ModelRef.newBuilder().setName(model).build();
            List<Runnable> calls = List.of(
                    () -> ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
                            .predict(PredictRequest.newBuilder().setModel(ref).setPrompt("The capital of France is")
                                    .setTopK(5).build()),
                    () -> AttributionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
                            .locateFact(LocateFactRequest.newBuilder().setModel(ref)
                                    .setPrompt("The capital of France is").setTarget(" Paris").setTopK(10).build()),
                    // a new seed each call: an identical request on the same checkpoint would reuse the proposal
                    () -> EditServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
                            .proposeEdit(ProposeEditRequest.newBuilder().setEdit(dev.engram.grpc.v1.EditRequest
                                    .newBuilder().setModel(ref).setPrompt("The capital of France is")
                                    .setTargetNew(" Rome").addParaphrases("France's capital city is")
                                    .setOptions(dev.engram.grpc.v1.EditOptions.newBuilder()
                                            .setSeed(SEEDS.incrementAndGet()))).build()));
            List<String> names = List.of("Predict", "LocateFact", "ProposeEdit");
            calls.get(0).run(); // load the model
            System.out.println("| call | clients | ok | p50 ms | p99 ms | ok/s | refused | failed | peak RSS GiB |");
            System.out.println("|---|---|---|---|---|---|---|---|---|");
            for (int c = 0; c < (mixedOnly ? 0 : calls.size()); c++) {
                for (int clients : new int[] {1, 4, 16}) {
                    Result r = phase(List.of(calls.get(c)), clients, seconds, maxCalls, pid);
                    System.out.println(r.row(names.get(c), clients));
                }
            }
            // 32 clients mixing the three kinds; one more client times lone Predicts beside them
            Result idle = phase(List.of(calls.get(0)), 1, seconds, maxCalls, pid);
            ExecutorService lone = Executors.newSingleThreadExecutor();
            Future<Result> beside = lone.submit(() -> phase(List.of(calls.get(0)), 1, seconds, maxCalls, "self"));
            Result mixed = phase(calls, 32, seconds, maxCalls, pid);
            Result predictUnderLoad = beside.get();
            lone.shutdown();
            System.out.println(mixed.row("mixed (Predict, LocateFact, ProposeEdit)", 32));
            System.out.println();
            System.out.println("lone Predict: idle " + idle.row("", 1) + "\nlone Predict beside 32 clients "
                    + predictUnderLoad.row("", 1));
            System.out.println("lone Predict beside 32 clients, ms in call order: " + predictUnderLoad.okNanos().stream()
                    .map(n -> String.valueOf(n / 1_000_000)).collect(java.util.stream.Collectors.joining(" ")));
            channel.shutdownNow();
        }
    }

    /** {@code clients} threads, each calling the kinds in turn until {@code maxCalls} or {@code seconds} pass. */
    private static Result phase(List<Runnable> kinds, int clients, int seconds, int maxCalls, String pid)
            throws Exception {
        if (!"self".equals(pid)) {
            ProcessMemory.resetPeak(pid);
        }
        List<Long> ok = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong turn = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            running.add(pool.submit(() -> {
                int refusedInARow = 0;
                for (int i = 0; i < maxCalls && System.nanoTime() < end; i++) {
                    Runnable call = kinds.get((int) (turn.getAndIncrement() % kinds.size()));
                    long t0 = System.nanoTime();
                    try {
                        call.run();
                        ok.add(System.nanoTime() - t0);
                        refusedInARow = 0;
                    } catch (StatusRuntimeException e) {
                        if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                            refused.incrementAndGet();
                            backOff(++refusedInARow);
                        } else {
                            failed.incrementAndGet();
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : running) {
            f.get();
        }
        pool.shutdown();
        double elapsed = (System.nanoTime() - start) / 1e9;
        long peak = "self".equals(pid) ? 0 : ProcessMemory.kib(pid, "VmHWM");
        return new Result(ok, refused.get(), failed.get(), elapsed, peak);
    }
}
