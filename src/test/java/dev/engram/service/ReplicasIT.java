package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.PredictResponse;
import dev.engram.grpc.v1.RollbackRequest;
import dev.engram.support.Nginx;
import dev.engram.support.ServerProcess;
import dev.engram.support.TestPostgres;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Two packaged servers on one real PostgreSQL ledger and one store directory, behind the repository's nginx
 * configuration: a commit or rollback through one is what the other serves within a second, a checkpoint committed
 * on one is readable (and built upon) on the other, racing commits through both on one parent commit once, nginx
 * spreads one client's calls over both, and a backup taken while they serve, restored into an empty store, is served
 * by a third server with the same head and predictions.
 */
class ReplicasIT {
    private static final String MODEL = "stories260K";
    private static final int[] PORTS = {9021, 9022};
    private static final int BALANCER = 9025;
    private static final String PROMPT = "Once upon a time, there was a little girl named";

    private static EditRequest example(int index, String parent) throws Exception {
        EditRequest r = CheckpointServiceGrpcTest.example("stories260K-examples.jsonl", index, MODEL);
        return r.toBuilder().setModel(ModelRef.newBuilder().setName(MODEL).setCheckpoint(parent)).build();
    }

    private static EditServiceGrpc.EditServiceBlockingStub edits(ManagedChannel channel) {
        return EditServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    private static String head(ManagedChannel channel) {
        return edits(channel).listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build()).getHead();
    }

    /** Seconds until {@code channel}'s server says the head is {@code expected}; fails after 5 s. */
    private static double secondsUntilHead(ManagedChannel channel, String expected) throws InterruptedException {
        long start = System.nanoTime();
        while (!head(channel).equals(expected)) {
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "the other replica never saw " + expected);
            Thread.sleep(10);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static PredictResponse predict(ManagedChannel channel, String checkpoint) {
        return ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).predict(PredictRequest
                .newBuilder().setModel(ModelRef.newBuilder().setName(MODEL).setCheckpoint(checkpoint))
                .setPrompt(PROMPT).setTopK(5).build());
    }

    /** engram_rpc_seconds_count of successful calls on the replica whose gRPC port is {@code port}. */
    private static double callsServed(int port) throws Exception {
        String metrics = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + (port + 100) + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("engram_rpc_seconds_count{")
                && l.contains("status=\"OK\"")).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    @Test
    void replicasOnOneLedgerServeEachOthersCommits() throws Exception {
        Path store = Path.of("target", "replicas-store").toAbsolutePath();
        dev.engram.runtime.load.AtomicFiles.deleteTree(store);
        java.nio.file.Files.createDirectories(store);
        try (TestPostgres pg = TestPostgres.start();
                ServerProcess a = ServerProcess.start(store, PORTS[0], List.of("engram.store.jdbc-url=" + pg.jdbcUrl(),
                        "engram.store.jdbc-user=" + pg.user()));
                ServerProcess b = ServerProcess.start(store, PORTS[1], List.of("engram.store.jdbc-url=" + pg.jdbcUrl(),
                        "engram.store.jdbc-user=" + pg.user()));
                Nginx lb = Nginx.start(BALANCER, List.of(PORTS[0], PORTS[1]))) {
            ManagedChannel toA = a.channel();
            ManagedChannel toB = b.channel();
            ManagedChannel toLb = ManagedChannelBuilder.forAddress("127.0.0.1", BALANCER).usePlaintext().build();
            try {
                // a commit through A is B's head within a second, and B serves its weights (read from A's files)
                String first = edits(toA).applyEdit(ApplyEditRequest.newBuilder().setEdit(example(0, "base")).build())
                        .getCheckpoint().getId();
                double seen = secondsUntilHead(toB, first);
                assertTrue(seen < 1, "B saw A's commit after " + seen + " s");
                System.out.printf("ReplicasIT: B served A's commit as its head %.3f s after ApplyEdit returned%n", seen);
                assertEquals(predict(toA, first), predict(toB, first));
                assertEquals(predict(toA, ""), predict(toB, ""), "both serve the same head");

                // B builds on A's checkpoint; A sees it
                String second = edits(toB).applyEdit(ApplyEditRequest.newBuilder().setEdit(example(1, first)).build())
                        .getCheckpoint().getId();
                assertTrue(secondsUntilHead(toA, second) < 1);
                assertEquals(predict(toB, second), predict(toA, second));

                // a rollback through A is B's head within a second
                edits(toA).rollback(RollbackRequest.newBuilder().setModel(MODEL).setTo("base").build());
                assertTrue(secondsUntilHead(toB, "base") < 1);

                // racing commits through both on one parent: exactly one wins each round, the other hears ABORTED
                String parent = "base";
                for (int round = 0; round < 3; round++) {
                    edits(round % 2 == 0 ? toA : toB).rollback(RollbackRequest.newBuilder().setModel(MODEL)
                            .setTo("base").build());
                    List<CompletableFuture<String>> racers = new ArrayList<>();
                    for (ManagedChannel channel : List.of(toA, toB)) {
                        EditRequest edit = example((racers.size() + round) % 2, "base");
                        racers.add(CompletableFuture.supplyAsync(race(() -> edits(channel).applyEdit(ApplyEditRequest
                                .newBuilder().setEdit(edit).build()).getCheckpoint().getId())));
                    }
                    List<String> winners = new ArrayList<>();
                    for (CompletableFuture<String> r : racers) {
                        String outcome = r.get(180, TimeUnit.SECONDS);
                        if (!outcome.startsWith("ABORTED")) {
                            winners.add(outcome);
                        }
                    }
                    assertEquals(1, winners.size(), "round " + round + ": " + racers.stream().map(r -> r.join()).toList());
                    assertEquals(winners.get(0), head(toA));
                    assertEquals(winners.get(0), head(toB));
                    parent = winners.get(0);
                }
                long rows = edits(toA).listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build())
                        .getCheckpointsCount();
                assertTrue(rows >= 2, "the two commits at least: " + rows);

                // nginx spreads one client's calls over both replicas, and every one sees the same head
                PredictResponse atHead = predict(toA, "");
                double[] before = {callsServed(PORTS[0]), callsServed(PORTS[1])};
                for (int i = 0; i < 8; i++) {
                    assertEquals(parent, head(toLb));
                    assertEquals(atHead, predict(toLb, ""));
                }
                double[] after = {callsServed(PORTS[0]), callsServed(PORTS[1])};
                assertTrue(after[0] > before[0] && after[1] > before[1], "both replicas served: " + (after[0]
                        - before[0]) + " and " + (after[1] - before[1]));

                // a backup taken through the balancer while both serve, restored offline into an empty store with an
                // embedded ledger, is served by a new server with the same head and the same predictions
                String backup = dev.engram.grpc.v1.StoreServiceGrpc.newBlockingStub(toLb)
                        .withDeadlineAfter(120, TimeUnit.SECONDS).backupStore(dev.engram.grpc.v1.BackupStoreRequest
                                .newBuilder().setName("replicas").build()).getDirectory();
                Path restored = Path.of("target", "replicas-restored").toAbsolutePath();
                dev.engram.runtime.load.AtomicFiles.deleteTree(restored);
                java.io.StringWriter restoreOut = new java.io.StringWriter();
                picocli.CommandLine cli = dev.engram.cli.EngramCli.commandLine();
                cli.setOut(new java.io.PrintWriter(restoreOut));
                cli.setErr(new java.io.PrintWriter(restoreOut));
                int code = cli.execute("store", "restore", "--from", store.resolveSibling(store.getFileName()
                        + "-backups").resolve(backup).toString(), "--store", restored.toString(), "--jdbc-url", "");
                assertEquals(0, code, restoreOut.toString());
                try (ServerProcess c = ServerProcess.start(restored, PORTS[0] + 2, List.of())) {
                    ManagedChannel toC = c.channel();
                    try {
                        assertEquals(parent, head(toC));
                        assertEquals(atHead, predict(toC, ""));
                        assertEquals(predict(toA, first), predict(toC, first), "an earlier checkpoint too");
                    } finally {
                        toC.shutdownNow();
                    }
                }
            } finally {
                toA.shutdownNow();
                toB.shutdownNow();
                toLb.shutdownNow();
            }
        }
    }

    /** The checkpoint id, or "ABORTED: …" when the other racer won. */
    private static Supplier<String> race(Supplier<String> apply) {
        return () -> {
            try {
                return apply.get();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.ABORTED) {
                    return "ABORTED: " + e.getStatus().getDescription();
                }
                throw e;
            }
        };
    }
}
