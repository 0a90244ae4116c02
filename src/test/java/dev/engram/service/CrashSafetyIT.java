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
import dev.engram.support.PauseAtCommitStage;
import dev.engram.support.ServerProcess;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * on a store that already holds one, the process stops there ({@link PauseAtCommitStage}, the commit observer the
 * server loads from its class path, see {@code CommitStage}) and is killed; the
 * restarted server must hold exactly the committed checkpoints (the second one only when the kill came after its
 * ledger transaction), nothing half-written or unreferenced on disk, and serve the head's weights.
 */
class CrashSafetyIT {
    private static final int PORT = 9011;
    private static final String MODEL = "stories260K";

    /**
     * A class path directory beside {@code store} holding the commit observer's class file alone, so that no other test
     * class or resource reaches the server.
     */
    private static Path observerClasses(Path store) throws IOException, java.net.URISyntaxException {
        String file = PauseAtCommitStage.class.getName().replace('.', '/') + ".class";
        Path compiled = Path.of(PauseAtCommitStage.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve(file);
        Path dir = store.resolveSibling(store.getFileName() + "-observer");
        deleteTree(dir);
        Files.createDirectories(dir.resolve(file).getParent());
        Files.copy(compiled, dir.resolve(file));
        return dir;
    }

    @ParameterizedTest
    @CsvSource({"before-delta, false", "after-delta, false", "before-ledger, false", "after-ledger, true"})
    void aKillInsideACommitLeavesTheLastGoodCheckpoint(String stage, boolean secondCommitted) throws Exception {
        Path store = Path.of("target", "crash-" + stage).toAbsolutePath();
        deleteTree(store);
        Files.createDirectories(store);

        String first;
        try (ServerProcess server = ServerProcess.start(store, PORT, List.of()); Client client = new Client(server)) {
            first = client.apply(0);
        }

        CompletableFuture<String> second = new CompletableFuture<>();
        // closing a killed server is a no-op; closing one that a failed assertion left paused stops it
        try (ServerProcess server = ServerProcess.start(store, PORT, List.of(PauseAtCommitStage.PROPERTY + "=" + stage,
                "dev.engram.store.commit-observer=" + PauseAtCommitStage.class.getName()), observerClasses(store));
                Client client = new Client(server)) {
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
            server.kill(); // SIGKILL
            Files.delete(marker);
        }

        try (ServerProcess restarted = ServerProcess.start(store, PORT, List.of());
                Client client = new Client(restarted)) {
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
        }
    }

    /** A channel to the server under test. */
    private static final class Client implements AutoCloseable {
        final ManagedChannel channel;
        final EditServiceGrpc.EditServiceBlockingStub edits;
        final ModelServiceGrpc.ModelServiceBlockingStub models;

        Client(ServerProcess server) {
            channel = server.channel();
            edits = EditServiceGrpc.newBlockingStub(channel);
            models = ModelServiceGrpc.newBlockingStub(channel);
        }

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
