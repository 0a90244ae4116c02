package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.GenerateRequest;
import dev.engram.grpc.v1.GenerateResponse;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.ModelServiceGrpc;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Calls share one HTTP/2 connection: a unary call whose deadline expires while a stream runs on the same channel must
 * not harm the stream (it once made the server send GOAWAY and every call on the connection die UNAVAILABLE).
 */
@QuarkusTest
class SharedConnectionGrpcTest extends GrpcClientTest {

    @Test
    void anExpiredUnaryCallLeavesTheStreamOnItsConnectionRunning() throws Exception {
        int tokens = 160;
        AtomicInteger received = new AtomicInteger();
        CompletableFuture<Status> streamEnd = new CompletableFuture<>();
        ModelServiceGrpc.newStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS).generate(GenerateRequest
                .newBuilder().setModel(SMOLLM2).setPrompt("Write a long story about a dragon who learns to bake.")
                .setMaxNewTokens(tokens).build(), ending(streamEnd, r -> received.incrementAndGet()));
        while (received.get() < 2 && !streamEnd.isDone()) {
            Thread.sleep(20);
        }
        int expired = 0;
        for (int i = 0; i < 3 && !streamEnd.isDone(); i++) {
            int before = received.get();
            // LocateFact on SmolLM2 takes far longer than 100 ms
            expect(Status.Code.DEADLINE_EXCEEDED, "", () -> AttributionServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(100, TimeUnit.MILLISECONDS).locateFact(LocateFactRequest.newBuilder()
                            .setModel(SMOLLM2).setPrompt("The capital of France is").setTarget(" Paris").setTopK(10)
                            .build()));
            expired++;
            // let the server reach the late reply to the expired call, and the stream go on past it
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (received.get() < before + 3 && System.nanoTime() < until && !streamEnd.isDone()) {
                Thread.sleep(20);
            }
        }
        Status end = streamEnd.get(300, TimeUnit.SECONDS);
        assertEquals(Status.Code.OK, end.getCode(), "the stream ended with " + end + " after " + received.get()
                + " tokens");
        assertTrue(expired >= 1, "no unary call expired while the stream ran");
        assertTrue(received.get() > 10, received.get() + " tokens");
    }
}
