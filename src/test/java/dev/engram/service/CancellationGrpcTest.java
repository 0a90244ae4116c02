package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.OperatingSystemMXBean;
import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.LocateFactsRequest;
import dev.engram.grpc.v1.LocateFactsResponse;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A call whose deadline passes, or whose client cancels, stops its work within a second: the server (this JVM) is
 * idle afterwards, where an EXACT LocateFact once kept a core busy for 210 s after its client gave up.
 */
@QuarkusTest
class CancellationGrpcTest extends GrpcClientTest {

    @Test
    void anExpiredLocateFactStopsWithinASecond() throws Exception {
        // warm the model first, so that loading it is not what the deadline cuts
        ModelServiceGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder().setModel(SMOLLM2)
                .setPrompt("Hello").setTopK(1).build());
        expect(Status.Code.DEADLINE_EXCEEDED, "", () -> AttributionServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(2, TimeUnit.SECONDS).locateFact(SMOLLM2_EXACT_LOCATE));
        assertIdleWithinASecond();
    }

    @Test
    void aCancelledLocateFactsStreamStopsWithinASecond() throws Exception {
        LocateFactsRequest.Builder batch = LocateFactsRequest.newBuilder();
        for (int i = 0; i < 20; i++) {
            batch.addRequests(SMOLLM2_EXACT_LOCATE);
        }
        CompletableFuture<Status> end = new CompletableFuture<>();
        Context.CancellableContext call = Context.current().withCancellation();
        call.run(() -> AttributionServiceGrpc.newStub(channel).locateFacts(batch.build(), ending(end, r -> { })));
        Thread.sleep(2000);
        call.cancel(null);
        assertEquals(Status.Code.CANCELLED, end.get(10, TimeUnit.SECONDS).getCode());
        assertIdleWithinASecond();
    }

    /** One second after the call ended, the whole server uses under a fifth of a core over the next two seconds. */
    private static void assertIdleWithinASecond() throws InterruptedException {
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Thread.sleep(1000);
        long cpuBefore = os.getProcessCpuTime();
        long wallBefore = System.nanoTime();
        Thread.sleep(2000);
        double cores = (double) (os.getProcessCpuTime() - cpuBefore) / (System.nanoTime() - wallBefore);
        assertTrue(cores < 0.2, String.format("the server still uses %.2f cores after the call ended", cores));
    }
}
