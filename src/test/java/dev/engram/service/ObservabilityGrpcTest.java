package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditOptions;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.NeuronKind;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.service.observability.RpcObservation;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Request ids and the Prometheus endpoint: calls made through a real channel show up in a real scrape of
 * /q/metrics (HTTP test port 9081), counted by method and final status, with the edits proposed and refused by gate.
 * Each figure is read before and after, so other tests sharing the server do not matter.
 */
@QuarkusTest
class ObservabilityGrpcTest extends GrpcClientTest {
    private static final String PREDICT = "engram.v1.ModelService/Predict";

    @Test
    void theClientsRequestIdComesBackAndAMissingOneIsMadeUp() {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        Metadata sent = new Metadata();
        sent.put(RpcObservation.REQUEST_ID, "pipeline-42.step-3");
        ModelServiceGrpc.ModelServiceBlockingStub models = ModelServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(sent),
                        MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
        models.predict(PredictRequest.newBuilder().setPrompt("Once upon a").setTopK(2).build());
        assertEquals("pipeline-42.step-3", headers.get().get(RpcObservation.REQUEST_ID));

        // no id and bad input: the id travels in the trailers of the error, a fresh UUID
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ModelServiceGrpc
                .newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .predict(PredictRequest.newBuilder().setPrompt("Once upon a").setTopK(-1).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        String made = e.getTrailers().get(RpcObservation.REQUEST_ID);
        assertEquals(made, UUID.fromString(made).toString());
    }

    @Test
    void callsAreCountedByMethodAndStatus() throws Exception {
        Map<String, String> ok = Map.of("method", PREDICT, "status", "OK");
        Map<String, String> invalid = Map.of("method", PREDICT, "status", "INVALID_ARGUMENT");
        String before = scrape();
        ModelServiceGrpc.ModelServiceBlockingStub models = ModelServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS);
        models.predict(PredictRequest.newBuilder().setPrompt("Once upon a").setTopK(2).build());
        models.predict(PredictRequest.newBuilder().setPrompt("One day").setTopK(2).build());
        assertThrows(StatusRuntimeException.class,
                () -> models.predict(PredictRequest.newBuilder().setPrompt("").setTopK(2).build()));
        String after = scrape();
        assertEquals(2, value(after, "engram_rpc_seconds_count", ok) - value(before, "engram_rpc_seconds_count", ok));
        assertEquals(1, value(after, "engram_rpc_seconds_count", invalid)
                - value(before, "engram_rpc_seconds_count", invalid));
        assertTrue(value(after, "engram_rpc_seconds_sum", ok) > value(before, "engram_rpc_seconds_sum", ok));
        assertTrue(after.contains("engram_rpc_seconds_bucket{"), "a latency histogram");
        long buckets = after.lines().filter(l -> l.startsWith("engram_rpc_seconds_bucket{") && l.contains(
                "method=\"" + PREDICT + "\"") && l.contains("status=\"OK\"")).count();
        assertEquals(17, buckets, "16 bounds and +Inf per method and status");
        Map<String, String> quick = Map.of("model", "stories260K", "lane", "quick");
        assertEquals(0, value(after, "engram_jobs_running", quick), "nothing runs between calls");
        assertEquals(0, value(after, "engram_jobs_queued", quick));
    }

    @Test
    void proposedAndRefusedEditsAreCountedWithTheGateThatRefused() throws Exception {
        EditRequest.Builder edit = EditRequest.newBuilder();
        JsonFormat.parser().merge(Files.readAllLines(Path.of("editing", "stories260K-examples.jsonl")).get(0), edit);
        edit.setModel(ModelRef.newBuilder().setName("stories260K-edits"));
        // the destructive edit of EditServiceGrpcTest: fails specificity, so ApplyEdit must commit nothing
        edit.setOptions(EditOptions.newBuilder().setMethod(EditMethod.EDIT_METHOD_LEARNED).setNeuronBudget(400)
                .addNeuronKinds(NeuronKind.NEURON_KIND_FFN).addNeuronKinds(NeuronKind.NEURON_KIND_ATTENTION)
                .setLearningRate(2.0).setSteps(3).setStopProbability(1.0).setKlWeight(0).setL2Weight(0));
        Map<String, String> proposed = Map.of("model", "stories260K-edits", "outcome", "proposed");
        Map<String, String> refused = Map.of("model", "stories260K-edits", "outcome", "refused");
        Map<String, String> committed = Map.of("model", "stories260K-edits", "outcome", "committed");
        Map<String, String> reused = Map.of("model", "stories260K-edits", "outcome", "reused");
        Map<String, String> specificity = Map.of("model", "stories260K-edits", "gate", "SPECIFICITY");
        String before = scrape();
        EditServiceGrpc.EditServiceBlockingStub edits = EditServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(300, TimeUnit.SECONDS);
        edits.proposeEdit(ProposeEditRequest.newBuilder().setEdit(edit).build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> edits.applyEdit(ApplyEditRequest.newBuilder().setEdit(edit).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        String after = scrape();
        // the ApplyEdit of the request just proposed reuses that proposal: one verification, counted once
        assertEquals(1, value(after, "engram_edits_total", proposed) - value(before, "engram_edits_total", proposed));
        assertEquals(1, value(after, "engram_edits_total", reused) - value(before, "engram_edits_total", reused));
        assertEquals(1, value(after, "engram_edits_total", refused) - value(before, "engram_edits_total", refused));
        assertEquals(value(before, "engram_edits_total", committed), value(after, "engram_edits_total", committed));
        assertEquals(1, value(after, "engram_edits_refused_gates_total", specificity)
                - value(before, "engram_edits_refused_gates_total", specificity));
        Map<String, String> model = Map.of("model", "stories260K-edits");
        assertEquals(1, value(after, "engram_verification_neighbour_kl_max_count", model)
                - value(before, "engram_verification_neighbour_kl_max_count", model));
        // every verified edit's fluency is recorded, a gain (ratio > 1) as much as a drop
        assertEquals(1, value(after, "engram_verification_fluency_ratio_count", model)
                - value(before, "engram_verification_fluency_ratio_count", model));
        assertEquals(1, value(after, "engram_verification_paraphrase_success_count", model)
                - value(before, "engram_verification_paraphrase_success_count", model));

        // without paraphrases or neighbours those checks are not measured, and not recorded: never as a success
        String beforeBare = scrape();
        edits.proposeEdit(ProposeEditRequest.newBuilder().setEdit(edit.clone().clearParaphrases().clearNeighbours())
                .build());
        String afterBare = scrape();
        assertEquals(1, value(afterBare, "engram_edits_total", proposed) - value(beforeBare, "engram_edits_total",
                proposed));
        for (String unmeasured : List.of("engram_verification_paraphrase_success_count",
                "engram_verification_neighbourhood_success_count")) {
            assertEquals(value(beforeBare, unmeasured, model), value(afterBare, unmeasured, model), unmeasured);
        }
    }

    /** Readiness says whether the default model is loaded and the store answers, not only that the JVM is up. */
    @Test
    void readinessChecksTheModelAndTheStore() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://localhost:9081/q/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        com.fasterxml.jackson.databind.JsonNode check = null;
        for (var c : new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).get("checks")) {
            if (c.path("name").asText().equals("engram")) {
                check = c.get("data"); // beside it, the gRPC server's own check
            }
        }
        assertTrue(check != null && check.get("default_model_loaded").asBoolean()
                && check.get("store_writable").asBoolean() && check.has("default_model_head"), response.body());
    }

    private static String scrape() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://localhost:9081/q/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    /** The sample of {@code name} whose labels include {@code labels}; 0 when there is none yet. */
    private static double value(String scrape, String name, Map<String, String> labels) {
        double found = 0;
        int matches = 0;
        for (String line : scrape.split("\n")) {
            if (!line.startsWith(name + "{")) {
                continue;
            }
            String labelPart = line.substring(name.length(), line.lastIndexOf('}') + 1);
            if (labels.entrySet().stream().allMatch(l -> labelPart.contains(l.getKey() + "=\"" + l.getValue() + "\""))) {
                found = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                matches++;
            }
        }
        assertTrue(matches <= 1, name + labels + " matches " + matches + " samples");
        return found;
    }
}
