package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.function.Executable;

/** A real gRPC channel to the test server (port 9001), shared by the service tests. */
abstract class GrpcClientTest {
    static final int TEST_PORT = 9001;
    static final dev.engram.grpc.v1.ModelRef SMOLLM2 = dev.engram.grpc.v1.ModelRef.newBuilder().setName("smollm2")
            .build();
    /** Exhaustive scoring on SmolLM2: minutes of work, for the tests of cancellation and admission. */
    static final dev.engram.grpc.v1.LocateFactRequest SMOLLM2_EXACT_LOCATE = dev.engram.grpc.v1.LocateFactRequest
            .newBuilder().setModel(SMOLLM2).setPrompt("The capital of France is").setTarget(" Paris").setTopK(10)
            .setOptions(dev.engram.grpc.v1.AttributionOptions.newBuilder()
                    .setNormMode(dev.engram.grpc.v1.NormMode.NORM_MODE_EXACT).setExhaustive(true)).build();
    static ManagedChannel channel;

    @BeforeAll
    static void openChannel() {
        channel = ManagedChannelBuilder.forAddress("localhost", TEST_PORT).usePlaintext().build();
    }

    /**
     * EditService on the shared channel with a deadline per call, not per class: a deadline set once runs out over a
     * class's many edits (and the key-value methods' first edit measures key statistics first).
     */
    static dev.engram.grpc.v1.EditServiceGrpc.EditServiceBlockingStub edits() {
        return dev.engram.grpc.v1.EditServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS);
    }

    /** ModelService on the shared channel with a deadline per call. */
    static dev.engram.grpc.v1.ModelServiceGrpc.ModelServiceBlockingStub models() {
        return dev.engram.grpc.v1.ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    @AfterAll
    static void closeChannel() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /**
     * The call fails with {@code code} and a message that starts with the offending field; an INVALID_ARGUMENT also
     * carries a google.rpc.BadRequest field violation naming that field, with the same message.
     */
    static StatusRuntimeException expect(Status.Code code, String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        String message = e.getStatus().getDescription();
        assertTrue(message != null && message.startsWith(field), e.getStatus().toString());
        if (code == Status.Code.INVALID_ARGUMENT) {
            com.google.rpc.Status details = io.grpc.protobuf.StatusProto.fromThrowable(e);
            assertTrue(details != null && details.getDetailsCount() == 1, "no BadRequest details: " + e.getStatus());
            try {
                com.google.rpc.BadRequest bad = details.getDetails(0).unpack(com.google.rpc.BadRequest.class);
                com.google.rpc.BadRequest.FieldViolation v = bad.getFieldViolations(0);
                assertEquals(message.substring(0, message.indexOf(": ")), v.getField());
                assertEquals(message, v.getField() + ": " + v.getDescription());
            } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                throw new AssertionError(ex);
            }
        }
        return e;
    }

    /** The server's overall health status, asked through the standard health service. */
    static HealthOuterClass.HealthCheckResponse.ServingStatus health(Channel channel) {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .check(HealthOuterClass.HealthCheckRequest.newBuilder().setService("").build()).getStatus();
    }

    /** The service names the server lists through gRPC reflection. */
    static List<String> reflectedServices(Channel channel) throws Exception {
        return reflect(channel, ServerReflectionRequest.newBuilder().setListServices("*").build())
                .getListServicesResponse().getServiceList().stream().map(s -> s.getName()).toList();
    }

    /**
     * The names of the files server reflection gives for {@code symbol} (the file defining it and those it imports), as
     * grpcurl asks when it decodes a message or a status detail; empty when reflection does not know the symbol.
     */
    static List<String> reflectedFilesOf(Channel channel, String symbol) throws Exception {
        ServerReflectionResponse r = reflect(channel, ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol(symbol).build());
        List<String> names = new ArrayList<>();
        for (com.google.protobuf.ByteString file : r.getFileDescriptorResponse().getFileDescriptorProtoList()) {
            names.add(com.google.protobuf.DescriptorProtos.FileDescriptorProto.parseFrom(file).getName());
        }
        return names;
    }

    private static ServerReflectionResponse reflect(Channel channel, ServerReflectionRequest request) throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        answer.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        answer.completeExceptionally(new IllegalStateException("no reflection response"));
                    }
                });
        requests.onNext(request);
        requests.onCompleted();
        return answer.get(30, TimeUnit.SECONDS);
    }

    /** An observer that hands each message to {@code onNext} and completes {@code end} with the call's final status. */
    /** A call made asynchronously: its context (cancel it to cancel the call) and the status it ends with. */
    record Call(io.grpc.Context.CancellableContext context, CompletableFuture<Status> end) {
    }

    /** Waits up to a minute for {@code condition}, failing with {@code what}. */
    static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            org.junit.jupiter.api.Assertions.assertTrue(System.nanoTime() < until, "timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    static <T> StreamObserver<T> ending(CompletableFuture<Status> end, java.util.function.Consumer<T> onNext) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                onNext.accept(value);
            }

            @Override
            public void onError(Throwable t) {
                end.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                end.complete(Status.OK);
            }
        };
    }
}
