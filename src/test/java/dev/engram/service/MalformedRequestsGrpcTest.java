package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.BatchEditRequest;
import dev.engram.grpc.v1.BatchEditResponse;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.GenerateRequest;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.LocateFactsRequest;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Requests no generated client would send: raw bytes on the wire, to the real server. */
@QuarkusTest
class MalformedRequestsGrpcTest extends GrpcClientTest {
    /** Sends {@code body} as the request of {@code method}, as raw bytes. */
    static byte[] raw(MethodDescriptor<?, ?> method, byte[] body) {
        MethodDescriptor<byte[], byte[]> rawMethod = method.toBuilder(RequestDecoding.BYTES, RequestDecoding.BYTES)
                .build();
        return ClientCalls.blockingUnaryCall(channel, rawMethod,
                io.grpc.CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), body);
    }

    @Test
    void aPromptOfInvalidUtf8IsAnInvalidArgument() {
        // field 2 (prompt), length 2: 0xC3 0x28 is not UTF-8; field 3 (top_k) = 1
        byte[] body = {0x12, 0x02, (byte) 0xC3, 0x28, 0x18, 0x01};
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> raw(ModelServiceGrpc.getPredictMethod(), body));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains("UTF-8"), e.getStatus().toString());
        // and the server still answers
        assertEquals(1, ModelServiceGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder()
                .setPrompt("Once upon a").setTopK(1).build()).getCandidatesCount());
    }

    @Test
    void bytesThatAreNoMessageAreAnInvalidArgument() {
        byte[] body = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> raw(ModelServiceGrpc.getPredictMethod(), body));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith("request"), e.getStatus().toString());
    }

    @Test
    void everyCallCapsThePromptAtTheConfiguredLength() {
        String longPrompt = "Once upon a time there was a little girl. ".repeat(20); // ~200 tokens; the tests cap 128
        StatusRuntimeException predict = expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> ModelServiceGrpc
                .newBlockingStub(channel).predict(PredictRequest.newBuilder().setPrompt(longPrompt).setTopK(1).build()));
        assertTrue(predict.getStatus().getDescription().contains("ENGRAM_MAX_PROMPT_TOKENS"), predict.toString());
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> ModelServiceGrpc.newBlockingStub(channel)
                .generate(GenerateRequest.newBuilder().setPrompt(longPrompt).setMaxNewTokens(1)
                        .build()).next());
    }

    @Test
    void anOversizedRequestIsRefusedWithItsSize() {
        String huge = "a".repeat(5 * 1024 * 1024);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ModelServiceGrpc
                .newBlockingStub(channel).predict(PredictRequest.newBuilder().setPrompt(huge).setTopK(1).build()));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription() != null && e.getStatus().getDescription().contains("4194304"),
                e.getStatus().toString());
    }

    @Test
    void aResponseTooLargeIsRefusedBeforeAnyWork() {
        // the tests allow 5000 neurons: (3000 + 3000) × 1 token is over
        StatusRuntimeException e = expect(Status.Code.INVALID_ARGUMENT, "top_k", () -> dev.engram.grpc.v1
                .AttributionServiceGrpc.newBlockingStub(channel).locateFact(LocateFactRequest
                        .newBuilder().setPrompt("Once upon a").setTopK(3000).build()));
        assertTrue(e.getStatus().getDescription().contains("engram.max-response-neurons"), e.toString());
    }

    @Test
    void batchesAreCappedAtTheConfiguredSize() throws Exception {
        // the tests allow 50
        LocateFactsRequest.Builder many = LocateFactsRequest.newBuilder();
        for (int i = 0; i < 51; i++) {
            many.addRequests(LocateFactRequest.newBuilder().setPrompt("Once upon a").setTopK(1));
        }
        expect(Status.Code.INVALID_ARGUMENT, "requests", () -> AttributionServiceGrpc
                .newBlockingStub(channel).locateFacts(many.build()).next());

        List<BatchEditResponse> results = new CopyOnWriteArrayList<>();
        CompletableFuture<Status> end = new CompletableFuture<>();
        StreamObserver<BatchEditRequest> lines = EditServiceGrpc
                .newStub(channel).batchEdit(ending(end, results::add));
        for (int i = 0; i < 60; i++) {
            lines.onNext(BatchEditRequest.newBuilder().setLine("not json " + i).build());
        }
        lines.onCompleted();
        end.get(60, TimeUnit.SECONDS);
        BatchEditResponse last = results.get(results.size() - 1);
        assertEquals(51, results.size(), "50 lines answered, the 51st refused, nothing read after it");
        assertTrue(last.getStopped() && last.getMessage().contains("engram.max-batch"), last.toString());
    }
}
