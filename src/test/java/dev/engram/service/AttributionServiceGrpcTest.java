package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.attribution.AttributionCharts;
import dev.engram.grpc.v1.AttributionOptions;
import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.LayerScore;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.LocateFactResponse;
import dev.engram.grpc.v1.LocateFactsResponse;
import dev.engram.grpc.v1.LocateFactsRequest;
import dev.engram.grpc.v1.Neuron;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.NormMode;
import dev.engram.grpc.v1.TargetAttribution;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** AttributionService through a real gRPC channel. */
@QuarkusTest
class AttributionServiceGrpcTest extends GrpcClientTest {
    private static AttributionServiceGrpc.AttributionServiceBlockingStub attribution;

    @BeforeAll
    static void stubs() {
        attribution = AttributionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS);
    }

    static ModelRef ref(String name) {
        return ModelRef.newBuilder().setName(name).build();
    }

    private static LocateFactRequest.Builder stories(String prompt) {
        return LocateFactRequest.newBuilder().setModel(ref("stories260K")).setPrompt(prompt).setTopK(10);
    }

    @Test
    void locateFactReturnsEverythingANeuronNeeds() {
        LocateFactResponse r = attribution.locateFact(stories("Once upon a").setOptions(
                AttributionOptions.newBuilder().setRenderCharts(true)).build());
        assertEquals(NormMode.NORM_MODE_FROZEN, r.getNormMode());
        assertEquals(1, r.getTargetsCount());
        TargetAttribution t = r.getTargets(0);
        assertEquals(" time", t.getToken());
        assertEquals(10, t.getValueNeuronsCount());
        assertEquals(10, t.getQueryNeuronsCount());
        assertEquals(5, t.getLayersCount());
        double layerSum = 0;
        for (LayerScore l : t.getLayersList()) {
            layerSum += l.getAttention() + l.getFfn();
            assertEquals(8, l.getHeadsCount());
        }
        assertEquals(t.getLogProbGain(), layerSum, 1e-4);
        assertEquals(r.getTotalLogProbGain(), t.getLogProbGain(), 1e-12);
        for (int i = 1; i < t.getValueNeuronsCount(); i++) {
            assertTrue(t.getValueNeurons(i - 1).getScore() >= t.getValueNeurons(i).getScore());
        }
        for (Neuron n : t.getValueNeuronsList()) {
            assertEquals(5, n.getTopTokensCount());
            assertTrue(n.getTargetRank() >= 1 && n.getTargetRank() <= 512, "target rank " + n.getTargetRank());
            if (n.hasAttention()) {
                assertTrue(n.getAttention().getHead() >= 0 && n.getAttention().getSourcePosition() >= 0);
                assertFalse(n.getAttention().getSourceToken().isEmpty());
            } else {
                assertTrue(n.hasFfn());
                assertTrue(n.getFfn().getIndex() >= 0 && n.getFfn().getIndex() < 172);
            }
        }
        assertTrue(t.getNeuronsScoredExactly() < t.getNeuronsTotal());
        assertTrue(r.getCharts().getLayerScoresSvg().startsWith("<svg"));
    }

    @Test
    void chartsAreWellFormedSvgOfTheExpectedSize() throws Exception {
        LocateFactResponse r = attribution.locateFact(stories("Lily went to the").setTarget(" park")
                .setOptions(AttributionOptions.newBuilder().setRenderCharts(true).setTopQueryNeurons(0)).build());
        Document bars = parse(r.getCharts().getLayerScoresSvg());
        assertEquals(String.valueOf(AttributionCharts.BAR_CHART_WIDTH), bars.getDocumentElement().getAttribute("width"));
        assertEquals(String.valueOf(AttributionCharts.BAR_CHART_HEIGHT), bars.getDocumentElement().getAttribute("height"));
        assertEquals(2 * 5, count(bars, "bar"));
        Document heat = parse(r.getCharts().getHeadHeatmapSvg());
        assertEquals(String.valueOf(AttributionCharts.heatmapWidth(8)), heat.getDocumentElement().getAttribute("width"));
        assertEquals(String.valueOf(AttributionCharts.heatmapHeight(5)), heat.getDocumentElement().getAttribute("height"));
        assertEquals(5 * 8, count(heat, "cell"));
        assertEquals(0, r.getTargets(0).getQueryNeuronsCount());
    }

    @Test
    void multiTokenTargetsGetOneAttributionPerToken() {
        LocateFactResponse r = attribution.locateFact(stories("Once upon a").setTarget(" time, there").build());
        assertTrue(r.getTargetsCount() >= 2);
        for (int i = 0; i < r.getTargetsCount(); i++) {
            assertEquals(r.getPromptTokenIdsCount() - 1 + i, r.getTargets(i).getPosition());
        }
        assertEquals(" time", r.getTargets(0).getToken());
        double sum = r.getTargetsList().stream().mapToDouble(TargetAttribution::getLogProbGain).sum();
        assertEquals(sum, r.getTotalLogProbGain(), 1e-9);
    }

    @Test
    void smolLM2LocatesParis() {
        LocateFactResponse r = attribution.locateFact(LocateFactRequest.newBuilder().setModel(ref("smollm2"))
                .setPrompt("The capital of France is").setTopK(10).build());
        TargetAttribution t = r.getTargets(0);
        assertEquals(" Paris", t.getToken());
        assertEquals(10, t.getValueNeuronsCount());
        assertTrue(t.getValueNeurons(0).getScore() > 0);
        assertEquals(30, t.getLayersCount());
    }

    @Test
    void locateFactsStreamsProgressInOrder() {
        LocateFactsRequest batch = LocateFactsRequest.newBuilder()
                .addRequests(stories("Once upon a"))
                .addRequests(stories("Lily and Ben"))
                .addRequests(stories("The sun was").setOptions(AttributionOptions.newBuilder()
                        .setNormMode(NormMode.NORM_MODE_EXACT)))
                .build();
        Iterator<LocateFactsResponse> stream = attribution.locateFacts(batch);
        List<LocateFactsResponse> seen = new ArrayList<>();
        stream.forEachRemaining(seen::add);
        assertEquals(3, seen.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, seen.get(i).getIndex());
            assertEquals(i + 1, seen.get(i).getCompleted());
            assertEquals(3, seen.get(i).getTotal());
        }
        assertEquals(NormMode.NORM_MODE_EXACT, seen.get(2).getResult().getNormMode());
        // the batch shares one forward pass; each result is what a LocateFact of that request alone returns
        for (int i = 0; i < 3; i++) {
            var alone = attribution.locateFact(batch.getRequests(i)).getTargets(0);
            var shared = seen.get(i).getResult().getTargets(0);
            assertEquals(alone.getTokenId(), shared.getTokenId());
            assertEquals(alone.getValueNeuronsCount(), shared.getValueNeuronsCount());
            for (int k = 0; k < alone.getValueNeuronsCount(); k++) {
                assertEquals(alone.getValueNeurons(k).getScore(), shared.getValueNeurons(k).getScore(), 1e-4);
            }
        }
    }

    @Test
    void badInputNamesTheFieldAndChangesNothing() {
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> attribution.locateFact(stories("").build()));
        expect(Status.Code.NOT_FOUND, "model", () -> attribution.locateFact(stories("Hi").setModel(ref("nope")).build()));
        expect(Status.Code.NOT_FOUND, "model.checkpoint", () -> attribution.locateFact(stories("Hi").setModel(ModelRef.newBuilder()
                .setName("stories260K").setCheckpoint("v9")).build()));
        assertEquals(10, attribution.locateFact(stories("Hi").setTopK(0).build()).getTargets(0).getValueNeuronsCount(),
                "an unset top_k means 10");
        expect(Status.Code.INVALID_ARGUMENT, "top_k", () -> attribution.locateFact(stories("Hi").setTopK(-1).build()));
        expect(Status.Code.INVALID_ARGUMENT, "top_k", () -> attribution.locateFact(stories("Hi").setTopK(10_001).build()));
        expect(Status.Code.INVALID_ARGUMENT, "options.top_query_neurons", () -> attribution.locateFact(stories("Hi")
                .setOptions(AttributionOptions.newBuilder().setTopQueryNeurons(-1)).build()));
        expect(Status.Code.INVALID_ARGUMENT, "options.norm_mode", () -> attribution.locateFact(stories("Hi")
                .setOptions(AttributionOptions.newBuilder().setNormModeValue(7)).build()));
        String tooLong = "the dog ran to the park and ".repeat(120);
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> attribution.locateFact(stories(tooLong).build()));
        // the test profile bounds LocateFact at 64 tokens (engram.attribution-max-tokens); the context is 512
        expect(Status.Code.INVALID_ARGUMENT, "prompt: is 82 tokens; LocateFact attributes at most 64",
                () -> attribution.locateFact(stories("a b ".repeat(40)).build()));
        String nearlyFull = "a b ".repeat(25); // 52 tokens: fits alone; with a long target it does not
        expect(Status.Code.INVALID_ARGUMENT, "target", () -> attribution.locateFact(stories(nearlyFull)
                .setTarget(" and then they played all day long in the big green park with the dog").build()));
        expect(Status.Code.INVALID_ARGUMENT, "requests[1].prompt", () -> attribution.locateFacts(
                LocateFactsRequest.newBuilder().addRequests(stories("Hi")).addRequests(stories("")).build()).hasNext());
        expect(Status.Code.INVALID_ARGUMENT, "requests", () -> attribution.locateFacts(
                LocateFactsRequest.newBuilder().build()).hasNext());
        // still serving
        assertEquals(" time", attribution.locateFact(stories("Once upon a").build()).getTargets(0).getToken());
    }


    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static int count(Document d, String cssClass) {
        var rects = d.getElementsByTagName("rect");
        int n = 0;
        for (int i = 0; i < rects.getLength(); i++) {
            String c = rects.item(i).getAttributes().getNamedItem("class") == null ? ""
                    : rects.item(i).getAttributes().getNamedItem("class").getNodeValue();
            if (List.of(c.split(" ")).contains(cssClass)) {
                n++;
            }
        }
        return n;
    }
}
