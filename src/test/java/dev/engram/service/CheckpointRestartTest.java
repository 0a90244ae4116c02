package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ListCheckpointsResponse;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Runs after {@link CheckpointServiceGrpcTest} (class @Order, through junit.quarkus.orderer.secondary-orderer) under
 * another test profile, so Quarkus stops that server and starts a new one on the same store directory and ledger
 * file: the commits and the head must still be there.
 */
@QuarkusTest
@TestProfile(CheckpointRestartTest.Restarted.class)
@Order(2)
class CheckpointRestartTest extends GrpcClientTest {
    /** A distinct profile is what makes Quarkus restart the application. */
    public static class Restarted implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("engram.editing.max-neighbours", "21");
        }
    }

    @Test
    void theCommittedEditsAndTheHeadSurviveARestart() throws Exception {
        assertTrue(Files.exists(CheckpointServiceGrpcTest.EXPECTED_HEAD),
                "CheckpointServiceGrpcTest must run first and record the head it left");
        String expected = Files.readString(CheckpointServiceGrpcTest.EXPECTED_HEAD);
        ListCheckpointsResponse list = EditServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(CheckpointServiceGrpcTest.MODEL).build());
        assertEquals(expected, list.getHead());
        assertTrue(list.getCheckpointsCount() >= 3, list.getCheckpointsList().toString());
        var predicted = dev.engram.grpc.v1.ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .predict(dev.engram.grpc.v1.PredictRequest.newBuilder()
                        .setModel(AttributionServiceGrpcTest.ref(CheckpointServiceGrpcTest.MODEL))
                        .setPrompt("Once upon a time, there was a little girl named").setTopK(1).build());
        assertEquals(expected, predicted.getModel().getCheckpoint());
        org.junit.jupiter.api.Assertions.assertNotEquals(" Lily", predicted.getCandidates(0).getText(),
                "the head's edited weights are served again, not the base's answer");
    }
}
