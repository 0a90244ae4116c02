package dev.engram.service;

import static dev.engram.service.AttributionServiceGrpcTest.ref;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.BatchEditRequest;
import dev.engram.grpc.v1.BatchEditResponse;
import dev.engram.grpc.v1.BatchOutcome;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.Gate;
import dev.engram.grpc.v1.GateThresholds;
import dev.engram.grpc.v1.GetCheckpointRequest;
import dev.engram.grpc.v1.GetCheckpointResponse;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.NeighbourPrompt;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A joint BatchEdit through a real channel on the real stories260K, on a model name of its own: the facts are solved
 * together (SUBJECT_NEURON), each is verified on the jointly edited model, and one checkpoint is committed only when
 * every fact passes; a fact that another fact of the batch breaks sinks the whole batch.
 */
@QuarkusTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JointBatchGrpcTest extends GrpcClientTest {
    private static final String MODEL = "stories260K-joint";
    private static final String GIRL = "Once upon a time, there was a little girl named";

    /** "a little girl" → " Sue" with the subject-neuron method. */
    private static EditRequest.Builder girl() {
        return EditRequest.newBuilder().setModel(ref(MODEL)).setSubject("a little girl")
                .setTemplate("Once upon a time, there was {} named").setTargetNew(" Sue").setTargetTrue(" Lily")
                .setOptions(dev.engram.grpc.v1.EditOptions.newBuilder()
                        .setMethod(EditMethod.EDIT_METHOD_SUBJECT_NEURON));
    }

    /** "his dog" → " store" with the subject-neuron method. */
    private static EditRequest.Builder dog() {
        return girl().setSubject("his dog").setTemplate("Tom and {} went to the").setTargetNew(" store")
                .setTargetTrue(" park");
    }

    /**
     * Gates loosened to efficacy alone: this test is about the batch's all-or-nothing commit on a 260K-parameter model,
     * not about how specific its edits are (the gate's own tests are).
     */
    private static EditRequest.Builder loosened(EditRequest.Builder r) {
        return r.setThresholds(GateThresholds.newBuilder().setMinParaphraseSuccess(0).setMaxNeighbourFlips(64)
                .setMaxNeighbourKl(1000).setMaxSentinelFlips(64).setMaxFluencyDrop(1).setMaxSameObjectLosses(64)
                .setMaxEarlierEditsUndone(64));
    }

    private static BatchEditRequest joint(EditRequest.Builder edit) {
        return BatchEditRequest.newBuilder().setEdit(edit).setJoint(true).build();
    }

    private static String head() {
        return edits().listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(MODEL).build()).getHead();
    }

    private static String top1(String prompt) {
        return models().predict(PredictRequest.newBuilder().setModel(ModelRef.newBuilder().setName(MODEL)).setPrompt(prompt)
                        .setTopK(1).build()).getCandidates(0).getText();
    }

    /**
     * The dog's line guards the girl's prompt as a neighbour that must keep " Lily": alone it would pass, but on the
     * jointly edited model the girl's fact takes it, so the dog's fact fails specificity and the batch commits nothing.
     */
    @Test
    @Order(1)
    void aFactThatAnotherFactOfTheBatchBreaksSinksTheBatch() throws Exception {
        List<BatchEditResponse> results = CheckpointServiceGrpcTest.batch(List.of(joint(loosened(girl())),
                joint(dog().addNeighbours(NeighbourPrompt.newBuilder().setPrompt(GIRL).setExpected(" Lily")))));
        assertEquals(2, results.size());
        assertEquals(BatchOutcome.BATCH_OUTCOME_GATE_FAILED, results.get(1).getOutcome(), results.get(1).getMessage());
        assertTrue(results.get(1).getProposal().getReport().getFailedGatesList().contains(Gate.GATE_SPECIFICITY));
        assertTrue(results.get(0).getProposal().getReport().getPassed(), "the girl's fact passes its own gate");
        assertEquals(BatchOutcome.BATCH_OUTCOME_NOT_COMMITTED, results.get(0).getOutcome());
        assertTrue(results.get(0).getMessage().contains("nothing was committed"), results.get(0).getMessage());
        assertEquals(0, results.get(1).getProgress().getCommitted());
        assertEquals("base", head(), "nothing was committed");
        assertEquals(" Lily", top1(GIRL));
    }

    @Test
    @Order(2)
    void aJointBatchWhoseFactsAllPassIsOneCheckpoint() throws Exception {
        List<BatchEditResponse> results = CheckpointServiceGrpcTest.batch(List.of(joint(loosened(girl())),
                joint(loosened(dog()))));
        for (BatchEditResponse r : results) {
            assertEquals(BatchOutcome.BATCH_OUTCOME_COMMITTED, r.getOutcome(), r.getMessage());
        }
        String id = results.get(0).getCheckpoint().getId();
        assertEquals(id, results.get(1).getCheckpoint().getId(), "one checkpoint for the batch");
        assertEquals("base", results.get(0).getCheckpoint().getParentId());
        assertEquals(2, results.get(0).getCheckpoint().getFacts());
        assertEquals(2 * 6L * 64, results.get(0).getCheckpoint().getParametersTouched(), "two units of 3·d per fact");
        assertEquals(id, head());
        assertEquals(" S", top1(GIRL), "' Sue'");
        assertEquals(" st", top1("Tom and his dog went to the"), "' store'");
        GetCheckpointResponse got = edits().getCheckpoint(GetCheckpointRequest.newBuilder().setModel(ModelRef.newBuilder().setName(MODEL)
                        .setCheckpoint(id)).build());
        assertEquals(" Sue", got.getCheckpoint().getRequest().getTargetNew());
        assertEquals(1, got.getCheckpoint().getMoreRequestsCount());
        assertEquals(" store", got.getCheckpoint().getMoreRequests(0).getTargetNew());
        assertEquals(results.get(1).getProposal().getReport(), got.getCheckpoint().getMoreReports(0));
    }

    /** The next edit's retention gate re-scores both facts of the joint checkpoint. */
    @Test
    @Order(3)
    void theNextEditReScoresEveryFactOfTheJointCheckpoint() {
        ProposeEditResponse next = edits().proposeEdit(ProposeEditRequest.newBuilder().setEdit(girl().setSubject("a little boy")
                        .setTargetNew(" Max").setTargetTrue("")).build());
        assertEquals(2, next.getReport().getEarlierEditsCount());
        assertEquals(List.of(GIRL, "Tom and his dog went to the"), next.getReport().getEarlierEditsList().stream()
                .map(dev.engram.grpc.v1.PromptReport::getPrompt).toList());
    }

    @Test
    @Order(4)
    void aMethodThatDoesNotBatchIsInvalidAndCommitsNothing() throws Exception {
        String before = head();
        EditRequest.Builder learned = loosened(dog()).setOptions(dev.engram.grpc.v1.EditOptions.newBuilder()
                .setMethod(EditMethod.EDIT_METHOD_LEARNED));
        List<BatchEditResponse> results = CheckpointServiceGrpcTest.batch(List.of(joint(learned), joint(learned)));
        for (BatchEditResponse r : results) {
            assertEquals(BatchOutcome.BATCH_OUTCOME_INVALID, r.getOutcome(), r.getMessage());
            assertTrue(r.getMessage().contains("edits one fact at a time"), r.getMessage());
        }
        assertEquals(before, head());
        assertNotEquals("base", before);
    }
}
