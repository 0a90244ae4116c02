package dev.engram.service;

import static dev.engram.service.AttributionServiceGrpcTest.ref;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditOptions;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditedVector;
import dev.engram.grpc.v1.Gate;
import dev.engram.grpc.v1.GateThresholds;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.NeighbourPrompt;
import dev.engram.grpc.v1.NeuronKind;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.PredictResponse;
import dev.engram.grpc.v1.PromptReport;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** EditService.ProposeEdit through a real channel, on the real stories260K and SmolLM2 models. */
@QuarkusTest
class EditServiceGrpcTest extends GrpcClientTest {

    /** Line {@code index} of an example batch in editing/, with the method set. */
    private static EditRequest.Builder example(String file, int index, EditMethod method) throws Exception {
        EditRequest.Builder b = EditRequest.newBuilder();
        JsonFormat.parser().merge(Files.readAllLines(Path.of("editing", file)).get(index), b);
        b.getOptionsBuilder().setMethod(method);
        return b;
    }

    private static ProposeEditResponse propose(EditRequest.Builder r) {
        return edits().proposeEdit(ProposeEditRequest.newBuilder().setEdit(r).build());
    }

    private static PredictResponse predict(ModelRef model, String prompt) {
        return models().predict(PredictRequest.newBuilder().setModel(model).setPrompt(prompt).setTopK(3).build());
    }

    /** A real edit on each model passes every gate, changes the prediction, and changes nothing on the server. */
    @ParameterizedTest
    @EnumSource(value = EditMethod.class, names = {"EDIT_METHOD_LEARNED", "EDIT_METHOD_CLOSED_FORM"})
    void aRealEditPassesTheGateOnStories260K(EditMethod method) throws Exception {
        checkRealEdit(example("stories260K-examples.jsonl", 0, method), 640);
    }

    /**
     * The field's baselines go through the same service and gate: a ProposeEdit with each key-value method reports
     * every gate, and the delta is whole down projections (ROME: one; MEMIT and AlphaEdit: their layer range), with no
     * located vectors.
     */
    @ParameterizedTest
    @EnumSource(value = EditMethod.class, names = {"EDIT_METHOD_ROME", "EDIT_METHOD_MEMIT", "EDIT_METHOD_ALPHA_EDIT"})
    void theKeyValueMethodsGoThroughTheSameGate(EditMethod method) throws Exception {
        EditRequest.Builder r = example("stories260K-examples.jsonl", 0, method).setSubject("a little girl")
                .setTemplate("Once upon a time, there was {} named").clearPrompt();
        ProposeEditResponse p = propose(r);
        assertEquals(5, p.getReport().getGatesCount(), p.getReport().getGatesList().toString());
        assertEquals(0, p.getDelta().getVectorsCount(), "no located vectors");
        long perMatrix = 64L * 172; // stories260K: d = 64, d_ffn = 172
        assertTrue(p.getDelta().getParametersTouched() > 0 && p.getDelta().getParametersTouched() % perMatrix == 0,
                "whole down projections: " + p.getDelta().getParametersTouched());
        assertTrue(p.getReport().hasParaphraseScore());
    }

    /** The subject-neuron edit through the service: every gate reported, two units' gate, up and down vectors (6·d). */
    @Test
    void theSubjectNeuronEditGoesThroughTheSameGate() throws Exception {
        EditRequest.Builder r = example("stories260K-examples.jsonl", 0, EditMethod.EDIT_METHOD_SUBJECT_NEURON)
                .setSubject("a little girl").setTemplate("Once upon a time, there was {} named").clearPrompt();
        ProposeEditResponse p = propose(r);
        assertEquals(5, p.getReport().getGatesCount(), p.getReport().getGatesList().toString());
        assertEquals(6L * 64, p.getDelta().getParametersTouched(), "stories260K: d = 64");
        assertTrue(p.getReport().hasParaphraseScore());
    }

    /**
     * France → Rome with the learned method, Germany → Madrid with the closed form (records 0 and 1 of the batch),
     * through a gate that tolerates relation spill-over. Both edits move other countries' capitals too, which the
     * default gate's derived neighbours refuse ({@code DerivedGateTest}); this test is about the pipeline around a
     * passing edit, so the request loosens the specificity thresholds, as a caller may.
     */
    @ParameterizedTest
    @EnumSource(value = EditMethod.class, names = {"EDIT_METHOD_LEARNED", "EDIT_METHOD_CLOSED_FORM"})
    void aRealEditPassesALoosenedGateOnSmolLM2(EditMethod method) throws Exception {
        checkRealEdit(loosened(example("smollm2-capitals.jsonl", method == EditMethod.EDIT_METHOD_LEARNED ? 0 : 1,
                method)), 5760);
    }

    /** The request with specificity thresholds that let relation spill-over through (derived neighbours only). */
    static EditRequest.Builder loosened(EditRequest.Builder b) {
        b.getThresholdsBuilder().setMaxNeighbourFlips(16).setMaxNeighbourKl(10).setMaxSameObjectLosses(16);
        return b;
    }

    /**
     * The same model, tokens and candidates, with probabilities equal to 1e-5: concurrent Predicts share packed forward
     * passes, whose sums run in another order than a pass of one prompt (measured differences up to ~2e-6; an edit
     * that reached the served model would move them by orders of magnitude more).
     */
    private static void assertSamePrediction(PredictResponse expected, PredictResponse actual) {
        assertEquals(expected.getModel(), actual.getModel());
        assertEquals(expected.getPromptTokenIdsList(), actual.getPromptTokenIdsList());
        assertEquals(expected.getCandidatesCount(), actual.getCandidatesCount());
        for (int i = 0; i < expected.getCandidatesCount(); i++) {
            assertEquals(expected.getCandidates(i).getId(), actual.getCandidates(i).getId());
            assertEquals(expected.getCandidates(i).getProbability(), actual.getCandidates(i).getProbability(), 1e-5);
        }
    }

    private static void checkRealEdit(EditRequest.Builder r, long parameters) {
        String prompt = r.getTemplate().isEmpty() ? r.getPrompt() : r.getTemplate().replace("{}", r.getSubject());
        PredictResponse before = predict(r.getModel(), prompt);
        ProposeEditResponse p = propose(r);
        assertTrue(p.getReport().getPassed(), p.getReport().getGatesList().toString());
        assertEquals(5, p.getReport().getGatesCount());
        PromptReport e = p.getReport().getEfficacy();
        assertTrue(e.getNewProbability() > e.getTrueProbability(), e.toString());
        assertTrue(e.getNewProbabilityBefore() < e.getTrueProbabilityBefore(), e.toString());
        assertEquals(1, e.getNewRank(), "target_new's first token is the edited model's top-1");
        assertEquals(e.getTopAfter(0).getText(), r.getTargetNew().substring(0, e.getTopAfter(0).getText().length()));
        assertEquals(before.getCandidates(0).getText(), e.getTopBefore(0).getText());
        assertEquals(parameters, p.getDelta().getParametersTouched());
        assertTrue(p.getDelta().getParametersTouchedFraction() < 1e-4 * (parameters > 1000 ? 1 : 100),
                "fraction " + p.getDelta().getParametersTouchedFraction());
        assertEquals(10, p.getDelta().getVectorsCount());
        for (EditedVector v : p.getDelta().getVectorsList()) {
            assertEquals(NeuronKind.NEURON_KIND_FFN, v.getKind());
            assertTrue(v.getDeltaNorm() > 0 && v.getOriginalNorm() > 0);
        }
        assertEquals(64, p.getDelta().getHash().length());
        assertFalse(p.getReport().getSentinelsList().isEmpty());
        assertTrue(p.getReport().getSentinelsCount() >= 20);
        for (PromptReport s : p.getReport().getSentinelsList()) {
            assertEquals(5, s.getTopBeforeCount());
            assertEquals(5, s.getTopAfterCount());
        }
        assertEquals(r.getParaphrasesCount(), p.getReport().getParaphrasesCount());
        assertEquals(r.getNeighboursCount(), p.getReport().getNeighboursCount());
        // a dry run: the served model still answers as before
        assertSamePrediction(before, predict(r.getModel(), prompt));
    }

    /** A huge budget and step size wrecks the model: specificity fails, the report says so, nothing changes. */
    @Test
    void aDestructiveEditFailsSpecificityAndTheReportNamesTheGate() throws Exception {
        EditRequest.Builder r = example("stories260K-examples.jsonl", 0, EditMethod.EDIT_METHOD_LEARNED);
        r.setOptions(EditOptions.newBuilder().setMethod(EditMethod.EDIT_METHOD_LEARNED).setNeuronBudget(400)
                .addNeuronKinds(NeuronKind.NEURON_KIND_FFN).addNeuronKinds(NeuronKind.NEURON_KIND_ATTENTION)
                .setLearningRate(2.0).setSteps(3).setStopProbability(1.0).setKlWeight(0).setL2Weight(0));
        PredictResponse before = predict(r.getModel(), "Once upon a");
        ProposeEditResponse p = propose(r);
        assertFalse(p.getReport().getPassed());
        assertTrue(p.getReport().getFailedGatesList().contains(Gate.GATE_SPECIFICITY),
                p.getReport().getGatesList().toString());
        assertTrue(p.getReport().getSentinelsList().stream().anyMatch(s -> !s.getSuccess()));
        assertSamePrediction(before, predict(r.getModel(), "Once upon a"));
    }

    @Test
    void badInputNamesTheFieldAndChangesNothing() throws Exception {
        EditRequest good = example("stories260K-examples.jsonl", 0, EditMethod.EDIT_METHOD_CLOSED_FORM).build();
        expect(Status.Code.INVALID_ARGUMENT, "target_new", () -> propose(good.toBuilder().setTargetNew("")));
        expect(Status.Code.INVALID_ARGUMENT, "target_new", () -> propose(good.toBuilder().setTargetNew("  \t")));
        expect(Status.Code.INVALID_ARGUMENT, "target_new", () -> propose(good.toBuilder().setTargetNew(" Lily")));
        expect(Status.Code.INVALID_ARGUMENT, "options.neuron_budget", () -> propose(good.toBuilder()
                .setOptions(good.getOptions().toBuilder().setNeuronBudget(0))));
        expect(Status.Code.INVALID_ARGUMENT, "options.neuron_budget", () -> propose(good.toBuilder()
                .setOptions(good.getOptions().toBuilder().setNeuronBudget(5 * 172 + 1))));
        expect(Status.Code.INVALID_ARGUMENT, "options.method", () -> propose(good.toBuilder()
                .setOptions(good.getOptions().toBuilder().setMethodValue(9))));
        expect(Status.Code.INVALID_ARGUMENT, "options.learning_rate", () -> propose(good.toBuilder()
                .setOptions(good.getOptions().toBuilder().setLearningRate(Double.NaN))));
        expect(Status.Code.INVALID_ARGUMENT, "options.contrast_weight", () -> propose(good.toBuilder()
                .setOptions(good.getOptions().toBuilder().setContrastWeight(-1))));
        expect(Status.Code.INVALID_ARGUMENT, "options.excluded_layers", () -> propose(good.toBuilder()
                .setOptions(good.getOptions().toBuilder().addExcludedLayers(5))));
        expect(Status.Code.INVALID_ARGUMENT, "thresholds.max_neighbour_kl", () -> propose(good.toBuilder()
                .setThresholds(GateThresholds.newBuilder().setMaxNeighbourKl(Double.NaN))));
        expect(Status.Code.INVALID_ARGUMENT, "thresholds.min_paraphrase_success", () -> propose(good.toBuilder()
                .setThresholds(GateThresholds.newBuilder().setMinParaphraseSuccess(-0.5))));
        expect(Status.Code.INVALID_ARGUMENT, "paraphrases", () -> propose(good.toBuilder()
                .addAllParaphrases(java.util.Collections.nCopies(21, "A girl named"))));
        expect(Status.Code.INVALID_ARGUMENT, "neighbours", () -> propose(good.toBuilder().addAllNeighbours(
                java.util.Collections.nCopies(21, NeighbourPrompt.newBuilder().setPrompt("Once upon a")
                        .setExpected(" time").build()))));
        expect(Status.Code.INVALID_ARGUMENT, "neighbours[0].expected", () -> propose(good.toBuilder()
                .setNeighbours(0, NeighbourPrompt.newBuilder().setPrompt("Once upon a"))));
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> propose(good.toBuilder().setPrompt("")));
        expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> propose(good.toBuilder()
                .setPrompt("the dog ran to the park and ".repeat(40))));
        // past the edit bound (64 tokens in the test profile) but within the bound every call has (128)
        assertTrue(expect(Status.Code.INVALID_ARGUMENT, "prompt", () -> propose(good.toBuilder()
                .setPrompt("the dog ran to the park and ".repeat(7)))).getStatus().getDescription()
                .contains("ENGRAM_EDIT_MAX_TOKENS"));
        expect(Status.Code.INVALID_ARGUMENT, "template", () -> propose(good.toBuilder().setPrompt("")
                .setSubject("Lily").setTemplate("A girl named")));
        expect(Status.Code.NOT_FOUND, "model", () -> propose(good.toBuilder().setModel(ref("gpt-17"))));
        expect(Status.Code.NOT_FOUND, "model.checkpoint", () -> propose(good.toBuilder()
                .setModel(good.getModel().toBuilder().setCheckpoint("v1"))));
        // still serving, unchanged
        assertEquals(" Lily", predict(ref("stories260K"), good.getPrompt()).getCandidates(0).getText());
    }

    @Test
    void targetTrueDefaultsToTheCurrentTopToken() throws Exception {
        EditRequest.Builder r = example("stories260K-examples.jsonl", 0, EditMethod.EDIT_METHOD_CLOSED_FORM)
                .clearTargetTrue();
        ProposeEditResponse p = propose(r);
        assertEquals(" Lily", p.getTargetTrue());
        assertEquals(List.of(), p.getReport().getEfficacy().getTopAfterList().stream()
                .filter(t -> t.getProbability() > 1 || t.getProbability() < 0).toList());
    }
}
