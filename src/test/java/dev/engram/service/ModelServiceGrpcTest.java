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

    private static float[] floats(dev.engram.grpc.v1.Activation a) {
        java.nio.FloatBuffer f = a.getValues().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
        float[] out = new float[f.remaining()];
        f.get(out);
        return out;
    }

    /**
     * GetActivations against what can be computed without the trace: h^0 rows are the embedding matrix's rows of the
     * prompt's tokens; the last position's ln_final.hook_normalized times W_U gives Predict's next-token distribution
     * (Predict runs another path: a cached, batched pass); resid_post of block l is resid_pre of block l + 1; a
     * pattern row sums to 1 and is 0 after its query. Bad hooks, positions and sizes get INVALID_ARGUMENT.
     */
    @Test
    void activationsAtHookPointsAgreeWithTheWeightsAndWithPredict() {
        String prompt = "Once upon a time, there was a little girl named";
        dev.engram.grpc.v1.ActivationsResponse r = models.getActivations(dev.engram.grpc.v1.ActivationsRequest
                .newBuilder().setPrompt(prompt).addHooks("hook_embed").addHooks("blocks.1.hook_resid_post")
                .addHooks("blocks.2.hook_resid_pre").addHooks("blocks.2.attn.hook_pattern")
                .addHooks("ln_final.hook_normalized").addHooks("blocks.3.mlp.hook_post")
                .addPositions(0).addPositions(-1).build());
        dev.engram.runtime.Model model = dev.engram.support.TestModels.sharedStories260K();
        int d = model.config().dModel();
        int tokens = r.getPromptTokenIdsCount();
        assertEquals(List.of(0, tokens - 1), r.getPositionsList());
        float[] embedding = model.weights().base().tokenEmbedding().toFloatArray();
        float[] h0 = floats(r.getActivations(0));
        assertEquals(List.of(2L, (long) d), r.getActivations(0).getShapeList());
        for (int i = 0; i < 2; i++) {
            int id = r.getPromptTokenIds(r.getPositions(i));
            for (int j = 0; j < d; j++) {
                assertEquals(embedding[id * d + j], h0[i * d + j], 1e-6, "h^0 row " + i);
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(floats(r.getActivations(1)), floats(r.getActivations(2)),
                "resid_post of block 1 is resid_pre of block 2");
        float[] pattern = floats(r.getActivations(3));
        assertEquals(List.of("head", "query", "source"), r.getActivations(3).getAxesList());
        int heads = model.config().nHeads();
        for (int h = 0; h < heads; h++) {
            double first = 0;
            double last = 0;
            for (int s = 0; s < tokens; s++) {
                first += pattern[(h * 2) * tokens + s];
                last += pattern[(h * 2 + 1) * tokens + s];
                if (s > 0) {
                    assertEquals(0, pattern[(h * 2) * tokens + s], 1e-7, "the first query sees only itself");
                }
            }
            assertEquals(1, first, 1e-5);
            assertEquals(1, last, 1e-5);
        }
        // logits = N_f(h^L) W_U at the last position, in doubles; softmax; against Predict's top-1
        float[] normed = floats(r.getActivations(4));
        float[] unembedding = model.weights().base().unembedding().toFloatArray(); // [d, V]
        int vocab = model.config().vocabSize();
        double[] logits = new double[vocab];
        double max = Double.NEGATIVE_INFINITY;
        int best = 0;
        for (int v = 0; v < vocab; v++) {
            for (int j = 0; j < d; j++) {
                logits[v] += (double) normed[d + j] * unembedding[j * vocab + v];
            }
            if (logits[v] > max) {
                max = logits[v];
                best = v;
            }
        }
        double z = 0;
        for (double l : logits) {
            z += Math.exp(l - max);
        }
        PredictResponse predicted = models.predict(PredictRequest.newBuilder().setPrompt(prompt).setTopK(1).build());
        assertEquals(predicted.getCandidates(0).getId(), best);
        assertEquals(predicted.getCandidates(0).getProbability(), 1 / z, 1e-4);
        assertEquals(List.of(2L, (long) model.config().dFfn()), r.getActivations(5).getShapeList());

        expect(Status.Code.INVALID_ARGUMENT, "hooks[0]", () -> models.getActivations(dev.engram.grpc.v1
                .ActivationsRequest.newBuilder().setPrompt(prompt).addHooks("blocks.0.hook_nope").build()));
        expect(Status.Code.INVALID_ARGUMENT, "hooks[0]", () -> models.getActivations(dev.engram.grpc.v1
                .ActivationsRequest.newBuilder().setPrompt(prompt).addHooks("blocks.99.hook_resid_post").build()));
        assertTrue(expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> models.getActivations(dev.engram.grpc.v1
                .ActivationsRequest.newBuilder().setPrompt("Once upon a time there was a dog. ".repeat(8))
                .addHooks("hook_embed").build())).getStatus().getDescription()
                .contains("ENGRAM_MAX_ACTIVATION_TOKENS"), "a long prompt's full trace is refused before it is run");
        expect(Status.Code.INVALID_ARGUMENT, "positions[0]", () -> models.getActivations(dev.engram.grpc.v1
                .ActivationsRequest.newBuilder().setPrompt(prompt).addHooks("hook_embed").addPositions(99).build()));
        dev.engram.grpc.v1.ActivationsRequest.Builder many = dev.engram.grpc.v1.ActivationsRequest.newBuilder()
                .setPrompt(prompt);
        for (int l = 0; l < model.config().nLayers(); l++) {
            many.addHooks("blocks." + l + ".mlp.hook_post");
            many.addHooks("blocks." + l + ".hook_resid_post");
        }
        assertTrue(expect(Status.Code.INVALID_ARGUMENT, "hooks", () -> models.getActivations(many.build()))
                .getStatus().getDescription().contains("ENGRAM_MAX_ACTIVATION_FLOATS"), "the limit named");
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
