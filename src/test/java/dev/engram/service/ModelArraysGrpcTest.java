package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.engram.grpc.v1.ActivationsRequest;
import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.AttributionOptions;
import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.CompareRequest;
import dev.engram.grpc.v1.DiffRequest;
import dev.engram.grpc.v1.EditMethod;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.GenerateRequest;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.NormMode;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.RollbackRequest;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * No call leaves NDArrays in the model's own manager, which lives as long as the model: a result made from a base
 * matrix outside a per-request scope belongs to the base's manager and is never freed (the soak found export doing so,
 * ~26 MB an export). Every kind of call runs once to warm what is legitimately kept (caches per checkpoint), then
 * twice more; the base manager must hold as many arrays after as before.
 */
@QuarkusTest
class ModelArraysGrpcTest extends GrpcClientTest {
    private static final String MODEL = "stories260K-leaks";
    private static final ModelRef REF = ModelRef.newBuilder().setName(MODEL).build();
    private static final String PROMPT = "Once upon a time, there was a little girl named";

    @Inject
    ModelRegistry registry;

    private int managedArrays() {
        return registry.get(MODEL).weights().manager().getManagedArrays().size();
    }

    private static EditRequest edit(EditMethod method, int seed) throws Exception {
        EditRequest r = CheckpointServiceGrpcTest.example("stories260K-examples.jsonl", 0, MODEL, method);
        return r.toBuilder().setOptions(r.getOptions().toBuilder().setSeed(seed)).build();
    }

    /** One of every kind of call, the edits with a fresh seed (so no proposal comes from the cache). */
    private static void everyCall(int round) throws Exception {
        var models = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS);
        var attribution = AttributionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS);
        models.predict(PredictRequest.newBuilder().setModel(REF).setPrompt(PROMPT).setTopK(5).build());
        models.generate(GenerateRequest.newBuilder().setModel(REF).setPrompt(PROMPT).setMaxNewTokens(4).build())
                .forEachRemaining(t -> { });
        models.getActivations(ActivationsRequest.newBuilder().setModel(REF).setPrompt(PROMPT)
                .addAllHooks(List.of("blocks.1.hook_resid_post", "blocks.2.attn.hook_pattern", "blocks.3.mlp.hook_post"))
                .build());
        for (NormMode mode : List.of(NormMode.NORM_MODE_FROZEN, NormMode.NORM_MODE_EXACT)) {
            attribution.locateFact(LocateFactRequest.newBuilder().setModel(REF).setPrompt(PROMPT).setTarget(" Lily")
                    .setTopK(10).setOptions(AttributionOptions.newBuilder().setNormMode(mode)).build());
        }
        for (EditMethod method : List.of(EditMethod.EDIT_METHOD_CLOSED_FORM, EditMethod.EDIT_METHOD_LEARNED,
                EditMethod.EDIT_METHOD_SUBJECT_NEURON, EditMethod.EDIT_METHOD_ROME)) {
            edits().proposeEdit(ProposeEditRequest.newBuilder().setEdit(edit(method, 100 + round)).build());
        }
        edits().applyEdit(ApplyEditRequest.newBuilder().setEdit(edit(EditMethod.EDIT_METHOD_CLOSED_FORM, 200 + round))
                .build());
        edits().compare(CompareRequest.newBuilder().setModel(MODEL).addPrompts(PROMPT).build());
        edits().diff(DiffRequest.newBuilder().setModel(MODEL).setFrom("base").build());
        edits().rollback(RollbackRequest.newBuilder().setModel(MODEL).setTo("base").build());
    }

    @Test
    void noCallLeavesArraysInTheModelsManager() throws Exception {
        everyCall(0);
        int before = managedArrays();
        everyCall(1);
        everyCall(2);
        assertEquals(before, managedArrays(), "arrays left in " + MODEL + "'s own manager by two rounds of calls");
    }
}
