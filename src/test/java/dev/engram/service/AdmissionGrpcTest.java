package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.LocateFactResponse;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Admission control on the real server (tests: 1 heavy call in flight per model, 2 queued): a fourth long call is
 * refused at once with RESOURCE_EXHAUSTED, a Predict still runs while the heavy lane is full, and cancelled calls free
 * their slot and their place in the queue.
 */
@QuarkusTest
class AdmissionGrpcTest extends GrpcClientTest {

    @Inject
    AdmissionControl admission;

    private static Call locate() {
        CompletableFuture<Status> end = new CompletableFuture<>();
        Context.CancellableContext context = Context.current().withCancellation();
        context.run(() -> AttributionServiceGrpc.newStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
                .locateFact(SMOLLM2_EXACT_LOCATE, ending(end, r -> { })));
        return new Call(context, end);
    }

    @Test
    void aFullLaneRefusesAtOnceWhileQuickCallsStillRun() throws Exception {
        // load the model first: its loading is not what is measured
        ModelServiceGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder().setModel(SMOLLM2)
                .setPrompt("Hello").setTopK(1).build());
        List<Call> admitted = new ArrayList<>();
        try {
            admitted.add(locate());
            await(() -> admission.running("smollm2", AdmissionControl.Lane.HEAVY) == 1, "one call runs");
            admitted.add(locate());
            admitted.add(locate());
            await(() -> admission.queued("smollm2", AdmissionControl.Lane.HEAVY) == 2, "two calls wait");

            Status refused = locate().end().get(30, TimeUnit.SECONDS);
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode(), refused.toString());
            assertTrue(refused.getDescription().startsWith("model: 'smollm2' is busy"), refused.toString());

            // the quick lane is not behind the heavy one
            assertEquals(" Paris", ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .predict(PredictRequest.newBuilder().setModel(SMOLLM2).setPrompt("The capital of France is")
                            .setTopK(1).build()).getCandidates(0).getText());
            for (Call c : admitted) {
                assertTrue(!c.end().isDone(), "an admitted call ended early: " + c.end().getNow(null));
            }
        } finally {
            admitted.forEach(c -> c.context().cancel(null));
        }
        await(() -> admission.running("smollm2", AdmissionControl.Lane.HEAVY) == 0
                && admission.queued("smollm2", AdmissionControl.Lane.HEAVY) == 0, "the lane empties");
    }
}
