package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.EditOptions;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.GateThresholds;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.NeighbourPrompt;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.support.ServerProcess;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of every RPC of the packaged server: random bytes as the request of each method, and random
 * (often absurd: NaN, huge, empty, non-ASCII) field values in typed edit requests. Every call gets a clear status,
 * never UNKNOWN, INTERNAL or UNAVAILABLE; the server stays up; and unless some call legitimately committed or rolled
 * back, the checkpoints are as they were.
 */
class FuzzIT {
    private static final int PORT = 9012;
    private static final Set<Status.Code> NEVER = EnumSet.of(Status.Code.UNKNOWN, Status.Code.INTERNAL,
            Status.Code.UNAVAILABLE, Status.Code.DATA_LOSS, Status.Code.UNIMPLEMENTED);
    private static final Set<String> WRITERS = Set.of("ApplyEdit", "BatchEdit", "Rollback");

    private static ServerProcess server;
    private static ManagedChannel channel;
    private static List<String> checkpointsBefore;
    private static volatile boolean someWriteSucceeded;

    @BeforeContainer
    static void start() throws Exception {
        Path store = Path.of("target", "fuzz-store-" + ProcessHandle.current().pid()).toAbsolutePath();
        server = ServerProcess.start(store, PORT, List.of());
        channel = server.channel();
        checkpointsBefore = checkpoints();
    }

    @AfterContainer
    static void stopAndCheck() throws Exception {
        try {
            assertTrue(server.isAlive(), "the server died under fuzzing");
            if (!someWriteSucceeded) {
                assertEquals(checkpointsBefore, checkpoints(), "bad input changed the checkpoints");
            }
        } finally {
            channel.shutdownNow();
            server.close();
        }
    }

    private static List<String> checkpoints() {
        return EditServiceGrpc.newBlockingStub(channel).listCheckpoints(ListCheckpointsRequest.newBuilder()
                .setModel("stories260K").build()).getCheckpointsList().stream()
                .map(c -> c.getId() + (c.getIsHead() ? " (head)" : "")).toList();
    }

    private static List<MethodDescriptor<?, ?>> methods() {
        List<MethodDescriptor<?, ?>> all = new ArrayList<>();
        for (ServiceDescriptor s : List.of(ModelServiceGrpc.getServiceDescriptor(),
                AttributionServiceGrpc.getServiceDescriptor(), EditServiceGrpc.getServiceDescriptor(),
                dev.engram.grpc.v1.StoreServiceGrpc.getServiceDescriptor())) {
            all.addAll(s.getMethods());
        }
        return all;
    }

    @Provide
    Arbitrary<MethodDescriptor<?, ?>> anyMethod() {
        return Arbitraries.of(methods());
    }

    @Provide
    Arbitrary<byte[]> bytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    }

    /** Sends {@code body} as the request of {@code method}; returns the status it ended with. */
    private static Status call(MethodDescriptor<?, ?> method, byte[] body) {
        MethodDescriptor<byte[], byte[]> raw = method.toBuilder(RequestDecoding.BYTES, RequestDecoding.BYTES).build();
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(120, TimeUnit.SECONDS);
        try {
            switch (method.getType()) {
                case UNARY -> ClientCalls.blockingUnaryCall(channel, raw, options, body);
                case SERVER_STREAMING -> {
                    Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(channel, raw, options, body);
                    while (it.hasNext()) {
                        it.next();
                    }
                }
                default -> {
                    CompletableFuture<Status> end = new CompletableFuture<>();
                    StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(
                            channel.newCall(raw, options), GrpcClientTest.ending(end, r -> { }));
                    requests.onNext(body);
                    requests.onCompleted();
                    return end.get(150, TimeUnit.SECONDS);
                }
            }
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void check(String what, Status status) {
        assertFalse(NEVER.contains(status.getCode()), what + " ended with " + status);
        assertTrue(status.isOk() || status.getDescription() != null && !status.getDescription().isBlank(),
                what + " failed without a message: " + status);
    }

    @Property(tries = 300)
    void randomBytesGetAClearStatus(@ForAll("anyMethod") MethodDescriptor<?, ?> method,
            @ForAll("bytes") byte[] body) {
        Status status = call(method, body);
        if (status.isOk() && WRITERS.contains(method.getBareMethodName())) {
            someWriteSucceeded = true;
        }
        check(method.getBareMethodName(), status);
    }

    @Provide
    Arbitrary<String> text() {
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(40),
                Arbitraries.strings().all().ofMaxLength(12),
                Arbitraries.of("", " ", "Once upon a", " time", "\u0000", "🙂", "stories260K", "base", "x".repeat(5000)));
    }

    @Provide
    Arbitrary<Double> number() {
        return Arbitraries.oneOf(Arbitraries.doubles(),
                Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 1e308, -1.0));
    }

    @Provide
    Arbitrary<Integer> count() {
        return Arbitraries.oneOf(Arbitraries.integers(), Arbitraries.integers().between(-2, 40));
    }

    /** ProposeEdit commits nothing, so any outcome but a crash is fine; the checkpoints must not move. */
    @Property(tries = 60)
    void absurdEditRequestsGetAClearStatus(@ForAll("text") String model, @ForAll("text") String prompt,
            @ForAll("text") String targetNew, @ForAll("text") String neighbour, @ForAll("number") double threshold,
            @ForAll("number") double learningRate, @ForAll("count") int steps, @ForAll("count") int budget) {
        EditRequest edit = EditRequest.newBuilder().setModel(ModelRef.newBuilder().setName(model))
                .setPrompt(prompt).setTargetNew(targetNew).addParaphrases(neighbour)
                .addNeighbours(NeighbourPrompt.newBuilder().setPrompt(neighbour).setExpected(targetNew))
                .setOptions(EditOptions.newBuilder().setLearningRate(learningRate).setSteps(steps)
                        .setNeuronBudget(budget))
                .setThresholds(GateThresholds.newBuilder().setMaxNeighbourKl(threshold)
                        .setMinParaphraseSuccess(threshold))
                .build();
        Status status;
        try {
            EditServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .proposeEdit(ProposeEditRequest.newBuilder().setEdit(edit).build());
            status = Status.OK;
        } catch (StatusRuntimeException e) {
            status = e.getStatus();
        }
        check("ProposeEdit", status);
    }
}
