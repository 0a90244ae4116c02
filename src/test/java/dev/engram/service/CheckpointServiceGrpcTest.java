package dev.engram.service;

import static dev.engram.service.AttributionServiceGrpcTest.ref;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.ApplyEditResponse;
import dev.engram.grpc.v1.BatchEditRequest;
import dev.engram.grpc.v1.BatchEditResponse;
import dev.engram.grpc.v1.BatchOutcome;
import dev.engram.grpc.v1.ChangedVector;
import dev.engram.grpc.v1.CompareRequest;
import dev.engram.grpc.v1.CompareResponse;
import dev.engram.grpc.v1.DiffRequest;
import dev.engram.grpc.v1.DiffResponse;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditOptions;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ExportCheckpointRequest;
import dev.engram.grpc.v1.ExportCheckpointResponse;
import dev.engram.grpc.v1.Gate;
import dev.engram.grpc.v1.GetCheckpointRequest;
import dev.engram.grpc.v1.GetCheckpointResponse;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ListCheckpointsResponse;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.NeuronKind;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.PredictResponse;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import dev.engram.grpc.v1.RollbackRequest;
import dev.engram.grpc.v1.VerificationReport;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.HfCheckpoint;
import dev.engram.runtime.load.SafetensorsReader;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The checkpoint store through EditService on a real channel: commits on the real stories260K (under its own name,
 * stories260K-edits, so other tests keep seeing the base) and SmolLM2 (smollm2-edits), rollback, diff, compare,
 * batches and export. The methods run in order: each builds on the lineage the previous ones left.
 */
@QuarkusTest
@Order(1)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CheckpointServiceGrpcTest extends GrpcClientTest {
    static final String MODEL = "stories260K-edits";
    /** Where this test leaves the head it expects the restarted server to find ({@link CheckpointRestartTest}). */
    static final Path EXPECTED_HEAD = Path.of(System.getProperty("test-store.dir", "target/test-store"),
            "expected-head.txt");
    private static String first;
    private static String second;
    private static PredictResponse atFirst;


    static EditRequest example(String file, int index, String model) throws Exception {
        return example(file, index, model, EditMethod.EDIT_METHOD_CLOSED_FORM);
    }

    static EditRequest example(String file, int index, String model, EditMethod method) throws Exception {
        EditRequest.Builder b = EditRequest.newBuilder();
        JsonFormat.parser().merge(stacked(Files.readAllLines(Path.of("editing", file)).get(index)), b);
        b.getOptionsBuilder().setMethod(method);
        return b.setModel(ref(model)).build();
    }

    /**
     * A stories260K example line with the sentinel gate relaxed to 3 flips. This test is about lineage, not edit
     * quality: the 260K-parameter model has near-tied sentinel prompts, and an edit stacked on another flips 2 of its
     * 21 (measured), where the same edit on the base flips none. SmolLM2's edit below loosens the specificity gate for the same reason (its spill-over is refused by default).
     */
    static String stacked(String line) {
        return line.startsWith("{\"model\": {\"name\": \"stories260K\"")
                ? line.substring(0, line.length() - 1) + ", \"thresholds\": {\"max_sentinel_flips\": 3}}" : line;
    }

    static PredictResponse predict(String checkpoint, String prompt) {
        return models().predict(PredictRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName(MODEL).setCheckpoint(checkpoint)).setPrompt(prompt)
                .setTopK(5).build());
    }

    private static ApplyEditResponse apply(EditRequest r) {
        return edits().applyEdit(ApplyEditRequest.newBuilder().setEdit(r).build());
    }

    @jakarta.inject.Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    /** engram_edits_total{outcome="reused"} of this test's model. */
    private double reused() {
        io.micrometer.core.instrument.Counter c = registry.find("engram.edits").tags("model", MODEL, "outcome", "reused")
                .counter();
        return c == null ? 0 : c.count();
    }

    @Test
    @Order(1)
    void applyEditCommitsAVerifiedEditAsTheNewHead() throws Exception {
        EditRequest r = example("stories260K-examples.jsonl", 0, MODEL);
        PredictResponse base = predict("", r.getPrompt());
        assertEquals(" Lily", base.getCandidates(0).getText());
        ProposeEditResponse proposed = edits().proposeEdit(ProposeEditRequest.newBuilder().setEdit(r).build());
        double reusedBefore = reused();
        ApplyEditResponse applied = apply(r);
        // the ApplyEdit of the request just proposed on the same checkpoint commits that proposal, not a new one
        assertEquals(reusedBefore + 1, reused());
        assertEquals(proposed.getDelta(), applied.getProposal().getDelta());
        assertEquals(proposed.getReport(), applied.getProposal().getReport());
        first = applied.getCheckpoint().getId();
        assertEquals(64, first.length());
        assertEquals("base", applied.getCheckpoint().getParentId());
        assertTrue(applied.getProposal().getReport().getPassed());
        assertEquals(applied.getProposal().getDelta().getParametersTouched(),
                applied.getCheckpoint().getParametersTouched());
        assertTrue(applied.getCheckpoint().getStoreBytes() > 0);
        // the head serves the edit; "base" still serves the unedited weights, exactly as before
        atFirst = predict("", r.getPrompt());
        assertTrue(r.getTargetNew().startsWith(atFirst.getCandidates(0).getText()), atFirst.toString());
        assertEquals(first, atFirst.getModel().getCheckpoint());
        assertEquals(base.getCandidatesList(), predict("base", r.getPrompt()).getCandidatesList());
        assertEquals(atFirst.getCandidatesList(), predict(first.substring(0, 8), r.getPrompt()).getCandidatesList());

        ListCheckpointsResponse list = edits().listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build());
        assertEquals(first, list.getHead());
        assertEquals(1, list.getCheckpointsCount());
        assertEquals(" Sue", list.getCheckpoints(0).getTargetNew());
        assertEquals("anonymous", list.getCheckpoints(0).getAuthor());
        assertEquals("commit", list.getHistory(0).getReason());

        GetCheckpointResponse got = edits().getCheckpoint(GetCheckpointRequest.newBuilder().setModel(ref(MODEL)).build());
        assertEquals(first, got.getCheckpoint().getId());
        assertTrue(got.getCheckpoint().getIsHead());
        assertEquals(r.getPrompt(), got.getCheckpoint().getRequest().getPrompt());
        assertEquals("base", got.getCheckpoint().getRequest().getModel().getCheckpoint(), "the parent it was verified on");
        assertEquals(applied.getProposal().getReport(), got.getCheckpoint().getReport());
        assertEquals(List.of(first), got.getLineageList());

        // the same request on the new head is a new edit: located, made and verified again
        double reusedAtHead = reused();
        ProposeEditResponse again = edits().proposeEdit(ProposeEditRequest.newBuilder().setEdit(r).build());
        assertEquals(reusedAtHead, reused());
        assertEquals(first, again.getModel().getCheckpoint());
    }

    @Test
    @Order(2)
    void aSecondEditStacksOnTheFirstAndDiffAndCompareSeeIt() throws Exception {
        ApplyEditResponse applied = apply(example("stories260K-examples.jsonl", 2, MODEL, EditMethod.EDIT_METHOD_LEARNED));
        second = applied.getCheckpoint().getId();
        assertEquals(first, applied.getCheckpoint().getParentId());
        // the retention gate re-scored the lineage's first edit on the second's result: still " Sue" over " Lily"
        VerificationReport report = applied.getProposal().getReport();
        assertEquals(1, report.getEarlierEditsCount());
        assertEquals("Once upon a time, there was a little girl named", report.getEarlierEdits(0).getPrompt());
        assertTrue(report.getEarlierEdits(0).getSuccess());
        assertEquals(1.0, report.getEarlierEditScore());
        assertEquals(" st", predict("", "Tom and his dog went to the").getCandidates(0).getText(), "' store'");
        assertEquals(atFirst.getCandidates(0).getText(), predict("", "Once upon a time, there was a little girl named")
                .getCandidates(0).getText(), "the first edit is still in force");

        DiffResponse all = edits().diff(DiffRequest.newBuilder().setModel(MODEL).build());
        assertEquals("base", all.getFrom());
        assertEquals(second, all.getTo());
        DiffResponse last = edits().diff(DiffRequest.newBuilder().setModel(MODEL).setFrom(first).setTo(second).build());
        assertEquals(10, last.getVectorsCount(), "only the second edit's vectors changed between the two");
        assertTrue(all.getVectorsCount() >= last.getVectorsCount());
        for (ChangedVector v : last.getVectorsList()) {
            assertEquals(NeuronKind.NEURON_KIND_FFN, v.getKind());
            assertEquals("FFN_DOWN", v.getMatrix());
            assertTrue(v.getDeltaNorm() > 0 && v.getBaseNorm() > 0);
        }
        assertEquals(last.getParametersChanged(), applied.getCheckpoint().getParametersTouched());

        CompareResponse compared = edits().compare(CompareRequest.newBuilder().setModel(MODEL)
                .addPrompts("Once upon a time, there was a little girl named").addPrompts("Once upon a").build());
        assertEquals("base", compared.getCheckpointA());
        assertEquals(second, compared.getCheckpointB());
        assertEquals(" Lily", compared.getPrompts(0).getTopA(0).getText());
        assertEquals(atFirst.getCandidates(0).getText(), compared.getPrompts(0).getTopB(0).getText());
        assertFalse(compared.getPrompts(0).getSameTop1());
        assertTrue(compared.getPrompts(0).getKl() > 0.1);
        assertTrue(compared.getPrompts(1).getSameTop1(), "a neighbour keeps its answer");
    }

    @Test
    @Order(3)
    void rollbackRestoresTheParentsLogitsExactly() {
        String prompt = "Once upon a time, there was a little girl named";
        var back = edits().rollback(RollbackRequest.newBuilder().setModel(MODEL).setTo(first).setExpectedHead(second)
                .build());
        assertEquals(second, back.getPreviousHead());
        assertEquals(first, back.getHead());
        assertEquals(atFirst.getCandidatesList(), predict("", prompt).getCandidatesList(),
                "the head gives exactly what it gave at the first checkpoint");
        assertEquals(" p", predict("", "Tom and his dog went to the").getCandidates(0).getText(), "' park'");
        ListCheckpointsResponse list = edits().listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build());
        assertEquals(2, list.getCheckpointsCount(), "history is kept");
        assertEquals("rollback", list.getHistory(list.getHistoryCount() - 1).getReason());
        // the second checkpoint is still served by id
        assertEquals(" st", predict(second, "Tom and his dog went to the").getCandidates(0).getText());
    }

    @Test
    @Order(4)
    void aStaleParentIsAbortedAndAFailedGateWritesNothing() throws Exception {
        EditRequest onSecond = example("stories260K-examples.jsonl", 1, MODEL).toBuilder()
                .setModel(ModelRef.newBuilder().setName(MODEL).setCheckpoint(second)).build();
        var aborted = expect(Status.Code.ABORTED, "the head of model", () -> apply(onSecond));
        assertTrue(aborted.getStatus().getDescription().contains(first), "names the head: " + aborted.getStatus());

        EditRequest destructive = example("stories260K-examples.jsonl", 0, MODEL).toBuilder()
                .setOptions(EditOptions.newBuilder().setMethod(EditMethod.EDIT_METHOD_LEARNED).setNeuronBudget(400)
                        .addNeuronKinds(NeuronKind.NEURON_KIND_FFN).addNeuronKinds(NeuronKind.NEURON_KIND_ATTENTION)
                        .setLearningRate(2.0).setSteps(3).setStopProbability(1.0).setKlWeight(0).setL2Weight(0))
                .build();
        // an edit that restores " Lily" on a near paraphrase undoes the lineage's first edit: the retention gate
        // refuses it and says so
        EditRequest undoing = example("stories260K-examples.jsonl", 0, MODEL).toBuilder()
                .setPrompt("Once upon a time there was a little girl named").setTargetNew(" Lily").setTargetTrue(" Sue")
                .clearParaphrases().clearNeighbours().build();
        var undone = expect(Status.Code.FAILED_PRECONDITION, "verification failed: RETENTION: 1 of 1 earlier edits",
                () -> apply(undoing));
        VerificationReport undoneReport = io.grpc.protobuf.StatusProto.fromThrowable(undone).getDetails(0)
                .unpack(VerificationReport.class);
        assertTrue(undoneReport.getFailedGatesList().contains(Gate.GATE_RETENTION));
        assertFalse(undoneReport.getEarlierEdits(0).getSuccess());
        assertEquals(0.0, undoneReport.getEarlierEditScore());
        var failed = expect(Status.Code.FAILED_PRECONDITION, "verification failed", () -> apply(destructive));
        com.google.rpc.Status details = io.grpc.protobuf.StatusProto.fromThrowable(failed);
        VerificationReport report = details.getDetails(0).unpack(VerificationReport.class);
        assertFalse(report.getPassed());
        assertTrue(report.getFailedGatesList().contains(Gate.GATE_SPECIFICITY));
        ListCheckpointsResponse list = edits().listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build());
        assertEquals(2, list.getCheckpointsCount());
        assertEquals(first, list.getHead());
    }

    @Test
    @Order(5)
    void badCheckpointReferencesAreNamed() {
        expect(Status.Code.NOT_FOUND, "model.checkpoint", () -> edits().getCheckpoint(GetCheckpointRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName(MODEL).setCheckpoint("0123456789abcdef")).build()));
        expect(Status.Code.NOT_FOUND, "model.checkpoint", () -> predict("v1", "Once upon a"));
        expect(Status.Code.INVALID_ARGUMENT, "to", () -> edits().rollback(RollbackRequest.newBuilder()
                .setModel("stories260K").setTo(first).build()));
        expect(Status.Code.INVALID_ARGUMENT, "to", () -> edits().rollback(RollbackRequest.newBuilder()
                .setModel(MODEL).build()));
        expect(Status.Code.NOT_FOUND, "model", () -> edits().listCheckpoints(ListCheckpointsRequest.newBuilder()
                .setModel("gpt-17").build()));
        expect(Status.Code.INVALID_ARGUMENT, "prompts", () -> edits().compare(CompareRequest.newBuilder()
                .setModel(MODEL).build()));
        expect(Status.Code.FAILED_PRECONDITION, "model", () -> edits().exportCheckpoint(ExportCheckpointRequest
                .newBuilder().setModel(ref(MODEL)).build()));
        expect(Status.Code.INVALID_ARGUMENT, "name", () -> edits().exportCheckpoint(ExportCheckpointRequest
                .newBuilder().setModel(ref(MODEL)).setName("../escape").build()));
        assertEquals(first, predict("", "Once upon a").getModel().getCheckpoint(), "nothing moved");
    }

    @Test
    @Order(6)
    void aBatchCommitsItsGoodLinesAndReportsTheBadOne() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("editing", "stories260K-examples.jsonl"));
        String lineTwo = stacked(lines.get(2)).replace("\"stories260K\"", "\"" + MODEL + "\"");
        String lineThree = stacked(lines.get(1)).replace("\"stories260K\"", "\"" + MODEL + "\"");
        List<BatchEditResponse> results = batch(List.of(
                BatchEditRequest.newBuilder().setLine(lineTwo).build(),
                BatchEditRequest.newBuilder().setLine("{\"prompt\": \"Once upon a\", ").build(),
                BatchEditRequest.newBuilder().setEdit(parse(lineThree)).build()));
        assertEquals(3, results.size());
        assertEquals(BatchOutcome.BATCH_OUTCOME_COMMITTED, results.get(0).getOutcome(), results.get(0).getMessage());
        assertEquals(BatchOutcome.BATCH_OUTCOME_INVALID, results.get(1).getOutcome());
        assertEquals(1, results.get(1).getIndex());
        assertTrue(results.get(1).getMessage().contains("line: not an EditRequest"), results.get(1).getMessage());
        assertEquals(2, results.get(2).getIndex());
        assertEquals(second, results.get(0).getCheckpoint().getId(),
                "the same edit on the same parent is the same checkpoint, committed again as the head");
        assertEquals(second, results.get(2).getCheckpoint().getParentId(),
                "each edit is made on the head the last one left");
        assertEquals(3, results.get(2).getProgress().getReceived());
        assertEquals(1, results.get(2).getProgress().getFailed());
        ListCheckpointsResponse list = edits().listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build());
        assertEquals(results.get(2).getCheckpoint().getId(), list.getHead());
        Files.createDirectories(EXPECTED_HEAD.getParent());
        Files.writeString(EXPECTED_HEAD, list.getHead());
    }

    @Test
    @Order(7)
    void stopOnFailureStopsAtTheFirstFailure() throws Exception {
        List<BatchEditResponse> results = batch(List.of(
                BatchEditRequest.newBuilder().setLine("not json").setStopOnFailure(true).build(),
                BatchEditRequest.newBuilder().setEdit(example("stories260K-examples.jsonl", 0, MODEL)).build()));
        assertEquals(1, results.size());
        assertTrue(results.get(0).getStopped());
        assertEquals(Files.readString(EXPECTED_HEAD), edits().listCheckpoints(ListCheckpointsRequest.newBuilder()
                .setModel(MODEL).build()).getHead(), "nothing committed after the stop");
    }

    /** A client that cancels its batch after the first result keeps that commit, and nothing else is committed. */
    @Test
    @Order(8)
    void cancellingABatchKeepsWhatWasCommitted() throws Exception {
        String head = Files.readString(EXPECTED_HEAD);
        BatchCall call = new BatchCall();
        io.grpc.stub.ClientCallStreamObserver<BatchEditRequest> in = call.in;
        in.onNext(BatchEditRequest.newBuilder().setEdit(example("stories260K-examples.jsonl", 0, MODEL).toBuilder()
                .setTargetNew(" Tim")).build());
        BatchEditResponse committed = call.first.get(300, TimeUnit.SECONDS);
        assertEquals(BatchOutcome.BATCH_OUTCOME_COMMITTED, committed.getOutcome(), committed.getMessage());
        assertEquals(head, committed.getCheckpoint().getParentId());
        // a second edit that passes on its own, cancelled while the server works on it: it must not be committed
        in.onNext(BatchEditRequest.newBuilder().setLine(stacked(Files.readAllLines(Path.of("editing",
                "stories260K-examples.jsonl")).get(1)).replace("\"stories260K\"", "\"" + MODEL + "\"")).build());
        in.cancel("the client gave up", null);
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(call.ended.get(30, TimeUnit.SECONDS)).getCode());
        Thread.sleep(8_000); // longer than the server takes for the edit it was given
        ListCheckpointsResponse list = edits().listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build());
        assertEquals(committed.getCheckpoint().getId(), list.getHead(),
                "the commit before the cancel is kept, and nothing after it is committed");
        Files.writeString(EXPECTED_HEAD, list.getHead());
    }

    private static EditRequest parse(String json) throws Exception {
        EditRequest.Builder b = EditRequest.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.build();
    }

    /** One BatchEdit call seen from the client: its results as they arrive, and how the call ended. */
    private static final class BatchCall implements StreamObserver<BatchEditResponse> {
        final List<BatchEditResponse> results = new java.util.concurrent.CopyOnWriteArrayList<>();
        final CompletableFuture<BatchEditResponse> first = new CompletableFuture<>();
        /** null when the server completed the call; the error otherwise. */
        final CompletableFuture<Throwable> ended = new CompletableFuture<>();
        final io.grpc.stub.ClientCallStreamObserver<BatchEditRequest> in;

        BatchCall() {
            in = (io.grpc.stub.ClientCallStreamObserver<BatchEditRequest>) EditServiceGrpc.newStub(channel)
                    .withDeadlineAfter(300, TimeUnit.SECONDS).batchEdit(this);
        }

        @Override
        public void onNext(BatchEditResponse value) {
            results.add(value);
            first.complete(value);
        }

        @Override
        public void onError(Throwable t) {
            ended.complete(t);
        }

        @Override
        public void onCompleted() {
            ended.complete(null);
        }
    }

    static List<BatchEditResponse> batch(List<BatchEditRequest> requests) throws Exception {
        BatchCall call = new BatchCall();
        requests.forEach(call.in::onNext);
        call.in.onCompleted();
        Throwable failure = call.ended.get(300, TimeUnit.SECONDS);
        if (failure != null) {
            throw new AssertionError("the batch call failed", failure);
        }
        return call.results;
    }

    /** SmolLM2 (GGUF source): an edited checkpoint exports in the HF layout and reloads with the same logits. */
    @Test
    @Order(9)
    void anExportedSmolLM2CheckpointReloadsWithIdenticalLogits() throws Exception {
        // about export, not edit quality: the gate is loosened as in EditServiceGrpcTest (Germany → Madrid spills)
        EditRequest r = EditServiceGrpcTest.loosened(example("smollm2-capitals.jsonl", 1, "smollm2-edits").toBuilder())
                .build();
        ApplyEditResponse applied = apply(r);
        ExportCheckpointResponse export = edits().exportCheckpoint(ExportCheckpointRequest.newBuilder()
                .setModel(ref("smollm2-edits")).build());
        assertEquals(applied.getCheckpoint().getId(), export.getModel().getCheckpoint());
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "generation_config.json", "engram-reference/reference.json", "engram-reference/logits.safetensors")) {
            assertTrue(export.getFilesList().contains(file), file + " in " + export.getFilesList());
        }
        assertFalse(export.getDirectory().contains("/"), "a name under the export directory, not a server path");
        Path dir = Path.of(org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("engram.store.export-dir", String.class), export.getDirectory());
        // the logits the server computed on the served checkpoint, written beside the export
        JsonNodeHolder reference = JsonNodeHolder.read(dir.resolve("engram-reference/reference.json"));
        SafetensorsReader served = new SafetensorsReader(dir.resolve("engram-reference/logits.safetensors"));
        assertEquals(applied.getProposal().getPrompt(), reference.text(0), "prompt 0 is the edit prompt");
        try (Model reloaded = HfCheckpoint.load("export", dir, TestModels.root())) {
            for (int p = 0; p < reference.size(); p++) {
                int[] tokens = reference.tokenIds(p);
                assertArrayEquals(tokens, reloaded.tokenizer().encodePrompt(reference.text(p)),
                        "the exported tokenizer.json tokenizes as the server did");
                float[] expected = served.readFloats(String.valueOf(p));
                try (var trace = ForwardPass.of(reloaded).logits(tokens)) {
                    float[] actual = trace.logits().toFloatArray();
                    assertEquals(expected.length, actual.length);
                    double worst = 0;
                    for (int i = 0; i < actual.length; i++) {
                        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
                    }
                    assertTrue(worst <= 1e-4, "prompt " + p + ": max |Δlogit| " + worst);
                }
            }
            int[] tokens = reference.tokenIds(0);
            float[] last = ForwardPass.of(reloaded).lastLogits(tokens);
            assertEquals(r.getTargetNew(), reloaded.tokenizer().decode(new int[] {argmax(last)}),
                    "the export carries the edit");
        }
        expect(Status.Code.ALREADY_EXISTS, "name", () -> edits().exportCheckpoint(ExportCheckpointRequest.newBuilder()
                .setModel(ref("smollm2-edits")).build()));
    }

    /** engram-reference/reference.json. */
    record JsonNodeHolder(com.fasterxml.jackson.databind.JsonNode root) {
        static JsonNodeHolder read(Path file) throws java.io.IOException {
            return new JsonNodeHolder(new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile()));
        }

        int size() {
            return root.path("prompts").size();
        }

        String text(int i) {
            return root.path("prompts").get(i).path("text").asText();
        }

        int[] tokenIds(int i) {
            var ids = root.path("prompts").get(i).path("token_ids");
            int[] out = new int[ids.size()];
            for (int j = 0; j < out.length; j++) {
                out[j] = ids.get(j).asInt();
            }
            return out;
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
