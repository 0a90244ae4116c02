package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.ApplyEditResponse;
import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.Checkpoint;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.LocateFactRequest;
import dev.engram.grpc.v1.ModelRef;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 32 concurrent calls on one model, 16 ApplyEdit and 16 LocateFact: every commit that answered OK is in the ledger,
 * the checkpoints form one chain from the head down to base (a commit whose parent moved was ABORTED, never forked
 * or lost), every lookup answered, and no call failed for any other reason.
 */
@QuarkusTest
@TestProfile(ConcurrentEditsProfile.class)
class ConcurrentEditsGrpcTest extends GrpcClientTest {
    private static final Set<Status.Code> EDIT_OUTCOMES = EnumSet.of(Status.Code.OK, Status.Code.ABORTED,
            Status.Code.FAILED_PRECONDITION);

    @Test
    void concurrentEditsAndLookupsLoseNoUpdateAndKeepOneChain() throws Exception {
        String model = ConcurrentEditsProfile.MODEL;
        EditServiceGrpc.EditServiceBlockingStub edits = EditServiceGrpc.newBlockingStub(channel);
        ExecutorService pool = Executors.newFixedThreadPool(32);
        List<Future<Status>> lookups = new ArrayList<>();
        List<Future<ApplyEditResponse>> commits = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                EditRequest r = CheckpointServiceGrpcTest.example("stories260K-examples.jsonl", i % 3, model);
                commits.add(pool.submit(() -> edits.withDeadlineAfter(300, TimeUnit.SECONDS)
                        .applyEdit(ApplyEditRequest.newBuilder().setEdit(r).build())));
                lookups.add(pool.submit(() -> {
                    AttributionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS)
                            .locateFact(LocateFactRequest.newBuilder().setModel(ModelRef.newBuilder().setName(model))
                                    .setPrompt("Once upon a time, there was a little girl named").setTopK(5).build());
                    return Status.OK;
                }));
            }
            List<String> committed = new ArrayList<>();
            Map<Status.Code, Integer> outcomes = new HashMap<>();
            for (Future<ApplyEditResponse> f : commits) {
                Status status;
                try {
                    committed.add(f.get(300, TimeUnit.SECONDS).getCheckpoint().getId());
                    status = Status.OK;
                } catch (java.util.concurrent.ExecutionException e) {
                    status = Status.fromThrowable(e.getCause());
                }
                assertTrue(EDIT_OUTCOMES.contains(status.getCode()), "an edit ended with " + status);
                outcomes.merge(status.getCode(), 1, Integer::sum);
            }
            for (Future<Status> f : lookups) {
                assertEquals(Status.OK, f.get(300, TimeUnit.SECONDS), "a lookup failed");
            }
            assertTrue(!committed.isEmpty(), "no edit committed: " + outcomes);

            List<Checkpoint> ledger = edits.listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(model).build())
                    .getCheckpointsList();
            Map<String, Checkpoint> byId = new HashMap<>();
            ledger.forEach(c -> byId.put(c.getId(), c));
            assertEquals(committed.size(), ledger.size(), "ledger " + ledger.size() + " rows, " + committed.size()
                    + " commits answered OK (" + outcomes + ")");
            for (String id : committed) {
                assertTrue(byId.containsKey(id), "committed " + id + " is not in the ledger");
            }
            List<Checkpoint> heads = ledger.stream().filter(Checkpoint::getIsHead).toList();
            assertEquals(1, heads.size(), "one head");
            // from the head down, parent by parent, every checkpoint once, ending at base: one chain, no fork
            int walked = 0;
            String at = heads.get(0).getId();
            while (!at.equals("base")) {
                Checkpoint c = byId.get(at);
                assertTrue(c != null, "parent " + at + " is missing from the ledger");
                walked++;
                at = c.getParentId();
            }
            assertEquals(ledger.size(), walked, "the chain from the head covers every checkpoint");
        } finally {
            pool.shutdownNow();
        }
    }
}
