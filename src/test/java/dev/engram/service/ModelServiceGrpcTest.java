package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.GenerateRequest;
import dev.engram.grpc.v1.GenerateResponse;
import dev.engram.grpc.v1.ListModelsRequest;
import dev.engram.grpc.v1.ListModelsResponse;
import dev.engram.grpc.v1.ModelInfo;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.PredictResponse;
import grpc.health.v1.HealthOuterClass;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The running server, called through a real gRPC channel on its test port. */
@QuarkusTest
class ModelServiceGrpcTest extends GrpcClientTest {
    private static ModelServiceGrpc.ModelServiceBlockingStub models;

    @BeforeAll
    static void stubs() {
        models = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    @Test
    void listModelsShowsTheLoadedDefault() {
        ListModelsResponse response = models.listModels(ListModelsRequest.getDefaultInstance());
        ModelInfo stories = response.getModelsList().stream().filter(m -> m.getName().equals("stories260K"))
                .findFirst().orElseThrow();
        assertTrue(stories.getIsDefault());
        assertTrue(stories.getLoaded());
        assertEquals("LLAMA", stories.getFamily());
        assertEquals(64, stories.getDModel());
        assertEquals(4, stories.getNKvHeads());
        assertEquals(512, stories.getContextLength());
    }

    @Test
    void predictGivesTimeAfterOnceUponA() {
        PredictResponse response = models.predict(PredictRequest.newBuilder()
                .setPrompt("Once upon a").setTopK(5).build());
        assertEquals("stories260K", response.getModel().getName());
        assertEquals(5, response.getCandidatesCount());
        assertEquals(" time", response.getCandidates(0).getText());
        assertTrue(response.getCandidates(0).getProbability() >= 0.99);
        for (int i = 1; i < 5; i++) {
            assertTrue(response.getCandidates(i - 1).getProbability() >= response.getCandidates(i).getProbability());
        }
        assertEquals(1, response.getPromptTokenIds(0)); // BOS
    }

    @Test
    void predictOnSmolLM2KnowsACapital() {
        PredictResponse response = models.predict(PredictRequest.newBuilder()
                .setModel(AttributionServiceGrpcTest.ref("smollm2")).setPrompt("The capital of France is").setTopK(3).build());
        assertEquals("smollm2", response.getModel().getName());
        assertEquals(" Paris", response.getCandidates(0).getText());
        assertTrue(response.getCandidates(0).getProbability() > 0.7);
        ModelInfo smol = models.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
                .filter(m -> m.getName().equals("smollm2")).findFirst().orElseThrow();
        assertTrue(smol.getLoaded());
        assertEquals(30, smol.getNLayers());
        assertEquals(8192, smol.getContextLength());
    }

    @Test
    void generateStreamsTheKnownStory() {
        Iterator<GenerateResponse> stream = models.generate(GenerateRequest.newBuilder()
                .setPrompt("Once upon a time").setMaxNewTokens(12).build());
        StringBuilder text = new StringBuilder();
        int count = 0;
        while (stream.hasNext()) {
            GenerateResponse token = stream.next();
            assertEquals(count++, token.getIndex());
            text.append(token.getTextDelta());
        }
        assertEquals(12, count);
        assertTrue(text.toString().startsWith(", there was a little girl named Lily"), text.toString());
    }

    @Test
    void badInputGetsAClearStatusAndTheServerStaysUp() {
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> models.predict(PredictRequest.newBuilder()
                .setPrompt("").setTopK(3).build()));
        expect(Status.Code.NOT_FOUND, "model", () -> models.predict(PredictRequest.newBuilder()
                .setModel(AttributionServiceGrpcTest.ref("no-such-model")).setPrompt("Hi").setTopK(3).build()));
        assertEquals(10, models.predict(PredictRequest.newBuilder().setPrompt("Hi").build()).getCandidatesCount(),
                "an unset top_k means 10");
        expect(Status.Code.INVALID_ARGUMENT, "top_k", () -> models.predict(PredictRequest.newBuilder()
                .setPrompt("Hi").setTopK(-4).build()));
        expect(Status.Code.INVALID_ARGUMENT, "top_k", () -> models.predict(PredictRequest.newBuilder()
                .setPrompt("Hi").setTopK(513).build()));
        String longPrompt = "the dog ran to the park and ".repeat(120);
        expect(Status.Code.INVALID_ARGUMENT, "prompt: is ", () -> models.predict(
                PredictRequest.newBuilder().setPrompt(longPrompt).setTopK(1).build()));
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> models.generate(GenerateRequest.newBuilder()
                .setPrompt("").build()).hasNext());
        expect(Status.Code.INVALID_ARGUMENT, "max_new_tokens", () -> models.generate(GenerateRequest.newBuilder()
                .setPrompt("Hi").setMaxNewTokens(-1).build()).hasNext());
        expect(Status.Code.NOT_FOUND, "model", () -> models.generate(GenerateRequest.newBuilder()
                .setModel(AttributionServiceGrpcTest.ref("gpt-17")).setPrompt("Hi").build()).hasNext());
        // still serving
        assertEquals(" time", models.predict(PredictRequest.newBuilder().setPrompt("Once upon a").setTopK(1).build())
                .getCandidates(0).getText());
    }

    /** Tokenize gives the ids every call reads the prompt as, and each token's own text (TransformerLens's). */
    @Test
    void tokenizeGivesTheIdsAPromptIsReadAsAndEachTokensText() {
        String prompt = "Once upon a time,\nthere";
        dev.engram.grpc.v1.TokenizeResponse t = models.tokenize(dev.engram.grpc.v1.TokenizeRequest.newBuilder()
                .setText(prompt).build());
        assertEquals(models.predict(PredictRequest.newBuilder().setPrompt(prompt).setTopK(1).build())
                .getPromptTokenIdsList(), t.getIdsList(), "the ids Predict reads");
        assertEquals(t.getIdsCount(), t.getTokensCount());
        assertEquals(prompt, String.join("", t.getTokensList()).strip(),
                "the tokens spell the prompt, its line break kept");
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> models.tokenize(dev.engram.grpc.v1.TokenizeRequest
                .newBuilder().setText("").build()));
    }

    @Test
    void healthServiceReportsServing() {
        assertEquals(HealthOuterClass.HealthCheckResponse.ServingStatus.SERVING, health(channel));
    }

    @Test
    void reflectionListsTheEngramServices() throws Exception {
        List<String> services = reflectedServices(channel);
        assertTrue(services.contains("engram.v1.ModelService"), services.toString());
        assertFalse(services.isEmpty());
    }

    /**
     * The types a failed call carries in its status details resolve through reflection, so that grpcurl decodes them:
     * google.rpc.BadRequest (every INVALID_ARGUMENT) and the verification report of a refused edit.
     */
    @Test
    void reflectionResolvesTheStatusDetailTypes() throws Exception {
        assertTrue(GrpcClientTest.reflectedFilesOf(channel, "google.rpc.BadRequest")
                .contains("google/rpc/error_details.proto"), "google.rpc.BadRequest");
        assertTrue(GrpcClientTest.reflectedFilesOf(channel, "engram.v1.VerificationReport")
                .contains("engram/v1/edit.proto"), "engram.v1.VerificationReport");
    }

}
