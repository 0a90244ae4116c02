package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.Checkpoint;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The packaged server as a separate process, killed with SIGKILL inside a commit: at each stage of the second commit
 * on a store that already holds one, the process stops there ({@code -Ddev.engram.store.pause-at}) and is killed; the
 * restarted server must hold exactly the committed checkpoints (the second one only when the kill came after its
 * ledger transaction), nothing half-written or unreferenced on disk, and serve the head's weights.
 */
class CrashSafetyIT {
    private static final int PORT = 9011;
    private static final String MODEL = "stories260K";

    @ParameterizedTest
    @CsvSource({"before-delta, false", "after-delta, false", "before-ledger, false", "after-ledger, true"})
    void aKillInsideACommitLeavesTheLastGoodCheckpoint(String stage, boolean secondCommitted) throws Exception {
        Path store = Path.of("target", "crash-" + stage).toAbsolutePath();
        deleteTree(store);
        Files.createDirectories(store);

        Process server = start(store, null);
        String first;
        try (Client client = new Client()) {
            first = client.apply(0);
        } finally {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
        }

        server = start(store, stage);
        CompletableFuture<String> second = new CompletableFuture<>();
        try (Client client = new Client()) {
            Thread commit = new Thread(() -> {
                try {
                    second.complete(client.apply(1));
                } catch (RuntimeException e) {
                    second.completeExceptionally(e);
                }
            });
            commit.setDaemon(true);
            commit.start();
            Path marker = store.resolve(".paused-at-" + stage);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(marker)) {
                assertTrue(System.nanoTime() < until, "the commit never reached " + stage);
                assertTrue(server.isAlive(), "the server died before " + stage);
                Thread.sleep(20);
            }
            server.destroyForcibly(); // SIGKILL
            server.waitFor(60, TimeUnit.SECONDS);
            Files.delete(marker);
        }

        server = start(store, null);
        try (Client client = new Client()) {
            List<Checkpoint> ledger = client.list();
            Set<String> ids = ledger.stream().map(Checkpoint::getId).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(secondCommitted ? 2 : 1, ids.size(), "checkpoints after a kill at " + stage + ": " + ids);
            assertTrue(ids.contains(first));
            Checkpoint head = ledger.stream().filter(Checkpoint::getIsHead).findFirst().orElseThrow();
            assertEquals(secondCommitted ? first : "base", head.getParentId(), "the head after a kill at " + stage);
            try (Stream<Path> onDisk = Files.list(store.resolve(MODEL))) {
                assertEquals(ids, onDisk.map(p -> p.getFileName().toString())
                        .collect(Collectors.toCollection(TreeSet::new)), "directories on disk after " + stage);
            }
            // the head's delta files load: the server composes them to answer
            assertEquals(5, client.models.predict(PredictRequest.newBuilder().setModel(ModelRef.newBuilder()
                    .setName(MODEL).setCheckpoint(head.getId())).setPrompt("Once upon a").setTopK(5).build())
                    .getCandidatesCount());
        } finally {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
        }
    }

    private static Process start(Path store, String pauseAt) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Dai.djl.offline=true"));
        if (pauseAt != null) {
            command.add("-Ddev.engram.store.pause-at=" + pauseAt);
        }
        command.addAll(List.of("-jar", "target/quarkus-app/quarkus-run.jar"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(store.resolveSibling(store.getFileName() + ".log")
                        .toFile()));
        pb.environment().put("ENGRAM_STORE_DIR", store.toString());
        pb.environment().put("ENGRAM_DEFAULT_MODEL", MODEL);
        pb.environment().put("ENGRAM_STORIES260K_PATH", new File(System.getProperty("shared.models.dir",
                "../shared/models"), "stories260K").getAbsolutePath());
        pb.environment().put("ENGRAM_PORT", String.valueOf(PORT));
        pb.environment().put("ENGRAM_HTTP_PORT", String.valueOf(PORT + 100));
        Process p = pb.start();
        ManagedChannel probe = ManagedChannelBuilder.forAddress("localhost", PORT).usePlaintext().build();
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (true) {
                assertTrue(p.isAlive(), "the server exited at start (see " + store + ".log)");
                try {
                    if (HealthGrpc.newBlockingStub(probe).withDeadlineAfter(2, TimeUnit.SECONDS)
                            .check(HealthOuterClass.HealthCheckRequest.getDefaultInstance()).getStatus()
                            == HealthOuterClass.HealthCheckResponse.ServingStatus.SERVING) {
                        return p;
                    }
                } catch (io.grpc.StatusRuntimeException notYet) {
                    assertTrue(System.nanoTime() < until, "the server did not start (see " + store + ".log)");
                    Thread.sleep(200);
                }
            }
        } finally {
            probe.shutdownNow();
        }
    }

    /** A channel to the server under test. */
    private static final class Client implements AutoCloseable {
        final ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", PORT).usePlaintext().build();
        final EditServiceGrpc.EditServiceBlockingStub edits = EditServiceGrpc.newBlockingStub(channel);
        final ModelServiceGrpc.ModelServiceBlockingStub models = ModelServiceGrpc.newBlockingStub(channel);

        String apply(int example) {
            try {
                return edits.withDeadlineAfter(120, TimeUnit.SECONDS).applyEdit(ApplyEditRequest.newBuilder()
                        .setEdit(CheckpointServiceGrpcTest.example("stories260K-examples.jsonl", example, MODEL))
                        .build()).getCheckpoint().getId();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        List<Checkpoint> list() {
            return edits.listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build())
                    .getCheckpointsList();
        }

        @Override
        public void close() {
            channel.shutdownNow();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
