package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ListModelsRequest;
import dev.engram.grpc.v1.ModelInfo;
import dev.engram.grpc.v1.ModelRef;
import dev.engram.grpc.v1.ModelServiceGrpc;
import dev.engram.grpc.v1.PredictRequest;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.RollbackRequest;
import grpc.health.v1.HealthOuterClass;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bearer tokens and scopes over TLS, through a real gRPC channel that trusts only the test's self-signed certificate:
 * no token or an unknown one is UNAUTHENTICATED, a missing scope PERMISSION_DENIED with nothing changed, health and
 * reflection stay open, and the port speaks TLS only. Tokens rotate without a restart (the tokens file rewritten), one
 * token holder cannot hold the heavy lane, and the ledger names the token holder who committed or rolled back.
 */
@QuarkusTest
@TestProfile(SecuredServerProfile.class)
class AccessControlGrpcTest extends GrpcClientTest {
    private static ManagedChannel tls;
    private static final ModelRef EDITS = ModelRef.newBuilder().setName("stories260K-edits").build();

    @BeforeAll
    static void openTlsChannel() throws Exception {
        SecuredServerProfile.makeCertificate();
        ChannelCredentials credentials = TlsChannelCredentials.newBuilder()
                .trustManager(SecuredServerProfile.CERTIFICATE.toFile()).build();
        tls = Grpc.newChannelBuilderForAddress("localhost", TEST_PORT, credentials).build();
    }

    @AfterAll
    static void closeTlsChannel() throws InterruptedException {
        tls.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Sends {@code authorization: <value>} on every call. */
    private static CallCredentials header(String value) {
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
                Metadata m = new Metadata();
                m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), value);
                applier.apply(m);
            }
        };
    }

    private static ModelServiceGrpc.ModelServiceBlockingStub models(String token) {
        ModelServiceGrpc.ModelServiceBlockingStub stub = ModelServiceGrpc.newBlockingStub(tls)
                .withDeadlineAfter(60, TimeUnit.SECONDS);
        return token == null ? stub : stub.withCallCredentials(header("Bearer " + token));
    }

    private static EditServiceGrpc.EditServiceBlockingStub edits(String token) {
        return EditServiceGrpc.newBlockingStub(tls).withDeadlineAfter(120, TimeUnit.SECONDS)
                .withCallCredentials(header("Bearer " + token));
    }

    private static final PredictRequest PREDICT = PredictRequest.newBuilder().setPrompt("Once upon a").setTopK(3)
            .build();

    @Test
    void aReadTokenPredictsOverTls() {
        assertEquals(" time", models(SecuredServerProfile.READ_TOKEN).predict(PREDICT).getCandidates(0).getText());
    }

    @Test
    void noTokenOrAnUnknownOneIsUnauthenticated() {
        expect(Status.Code.UNAUTHENTICATED, "authorization", () -> models(null).predict(PREDICT));
        expect(Status.Code.UNAUTHENTICATED, "authorization", () -> models("not-a-token").predict(PREDICT));
        expect(Status.Code.UNAUTHENTICATED, "authorization", () -> ModelServiceGrpc.newBlockingStub(tls)
                .withCallCredentials(header("Basic " + SecuredServerProfile.READ_TOKEN)).predict(PREDICT));
        // the hash is what the server stores; presenting it is not presenting the token
        expect(Status.Code.UNAUTHENTICATED, "authorization", () -> models(
                dev.engram.service.security.AccessTokens.sha256Hex(SecuredServerProfile.READ_TOKEN)).predict(PREDICT));
    }

    @Test
    void aMissingScopeIsPermissionDeniedAndChangesNothing() {
        int before = edits(SecuredServerProfile.READ_TOKEN).listCheckpoints(ListCheckpointsRequest.newBuilder()
                .setModel(EDITS.getName()).build()).getCheckpointsCount();
        EditRequest edit = EditRequest.newBuilder().setModel(EDITS).setPrompt("Lily liked to").setTargetNew(" run")
                .build();
        StatusRuntimeException e = expect(Status.Code.PERMISSION_DENIED, "authorization",
                () -> edits(SecuredServerProfile.READ_TOKEN).applyEdit(ApplyEditRequest.newBuilder().setEdit(edit)
                        .build()));
        assertTrue(e.getStatus().getDescription().contains("'edit' scope"), e.getStatus().toString());
        expect(Status.Code.PERMISSION_DENIED, "authorization", () -> edits(SecuredServerProfile.READ_TOKEN)
                .proposeEdit(ProposeEditRequest.newBuilder().setEdit(edit).build()));
        expect(Status.Code.PERMISSION_DENIED, "authorization", () -> edits(SecuredServerProfile.EDIT_TOKEN)
                .rollback(RollbackRequest.newBuilder().setModel(EDITS.getName()).setTo("base").build()));
        // an edit token alone cannot read either: scopes do not imply one another
        expect(Status.Code.PERMISSION_DENIED, "authorization", () -> models(SecuredServerProfile.EDIT_TOKEN)
                .predict(PREDICT));
        assertEquals(before, edits(SecuredServerProfile.ADMIN_TOKEN).listCheckpoints(ListCheckpointsRequest
                .newBuilder().setModel(EDITS.getName()).build()).getCheckpointsCount());
    }

    @Test
    void healthAndReflectionNeedNoToken() throws Exception {
        assertEquals(HealthOuterClass.HealthCheckResponse.ServingStatus.SERVING, health(tls));
        assertTrue(reflectedServices(tls).contains("engram.v1.EditService"));
    }

    @Test
    void listModelsShowsNoServerPaths() {
        for (ModelInfo m : models(SecuredServerProfile.READ_TOKEN).listModels(ListModelsRequest.getDefaultInstance())
                .getModelsList()) {
            assertFalse(m.getSource().contains("/"), m.getName() + " source " + m.getSource());
            assertFalse(m.getSource().isEmpty(), m.getName());
        }
    }

    @Test
    void plaintextIsRefused() throws InterruptedException {
        ManagedChannel plain = Grpc.newChannelBuilderForAddress("localhost", TEST_PORT,
                InsecureChannelCredentials.create()).build();
        try {
            StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> ModelServiceGrpc.newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS)
                            .withCallCredentials(header("Bearer " + SecuredServerProfile.READ_TOKEN))
                            .predict(PREDICT));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
        } finally {
            plain.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void awaitCode(Status.Code code, String token, long seconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            Status.Code now;
            try {
                models(token).predict(PREDICT);
                now = Status.Code.OK;
            } catch (StatusRuntimeException e) {
                now = e.getStatus().getCode();
            }
            if (now == code) {
                return;
            }
            assertTrue(System.nanoTime() < until, "still " + now + " after " + seconds + " s, expected " + code);
            Thread.sleep(50);
        }
    }

    @Test
    void tokensRotateWithoutARestart() throws Exception {
        String filedEntry = dev.engram.service.security.AccessTokens.sha256Hex(SecuredServerProfile.FILED_TOKEN)
                + " read filed";
        String rotated = "rotated-" + java.util.UUID.randomUUID();
        String rotatedEntry = dev.engram.service.security.AccessTokens.sha256Hex(rotated) + " read rotated";
        try {
            assertEquals(" time", models(SecuredServerProfile.FILED_TOKEN).predict(PREDICT).getCandidates(0)
                    .getText());
            expect(Status.Code.UNAUTHENTICATED, "authorization", () -> models(rotated).predict(PREDICT));

            // the operator replaces the file: the old token goes, a new one comes; the inline tokens stay
            long start = System.nanoTime();
            SecuredServerProfile.writeTokensFile(rotatedEntry);
            awaitCode(Status.Code.UNAUTHENTICATED, SecuredServerProfile.FILED_TOKEN, 5);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 5, "the removed token was accepted for " + seconds + " s");
            awaitCode(Status.Code.OK, rotated, 5);
            assertEquals(" time", models(SecuredServerProfile.READ_TOKEN).predict(PREDICT).getCandidates(0)
                    .getText());

            // a file that no longer parses keeps the last good tokens: nothing opens, nothing is lost
            SecuredServerProfile.writeTokensFile("this is not a token entry at all");
            Thread.sleep(1000); // five re-check intervals
            assertEquals(" time", models(rotated).predict(PREDICT).getCandidates(0).getText());
            expect(Status.Code.UNAUTHENTICATED, "authorization",
                    () -> models(SecuredServerProfile.FILED_TOKEN).predict(PREDICT));
        } finally {
            SecuredServerProfile.writeTokensFile(filedEntry);
        }
        awaitCode(Status.Code.OK, SecuredServerProfile.FILED_TOKEN, 5);
    }

    @jakarta.inject.Inject
    AdmissionControl admission;

    @Test
    void oneTokenHolderCannotHoldTheHeavyLane() throws Exception {
        java.util.function.Function<String, Call> locate = token -> {
            java.util.concurrent.CompletableFuture<Status> end = new java.util.concurrent.CompletableFuture<>();
            io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
            context.run(() -> dev.engram.grpc.v1.AttributionServiceGrpc.newStub(tls)
                    .withCallCredentials(header("Bearer " + token)).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .locateFact(SMOLLM2_EXACT_LOCATE, ending(end, r -> { })));
            return new Call(context, end);
        };
        java.util.List<Call> admitted = new java.util.ArrayList<>();
        try {
            admitted.add(locate.apply(SecuredServerProfile.READ_TOKEN));
            await(() -> admission.running("smollm2", AdmissionControl.Lane.HEAVY) == 1, "the reader's call runs");
            // the same holder's second heavy call is refused at once, though the lane's queue has room
            Status refused = locate.apply(SecuredServerProfile.READ_TOKEN).end().get(30, TimeUnit.SECONDS);
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode(), refused.toString());
            assertTrue(refused.getDescription().startsWith("authorization: 'reader' already has 1 heavy call"),
                    refused.toString());
            assertEquals(1, admission.heavyInFlight("reader"));
            // another holder still gets into the queue
            admitted.add(locate.apply(SecuredServerProfile.ADMIN_TOKEN));
            await(() -> admission.queued("smollm2", AdmissionControl.Lane.HEAVY) == 1, "the operator's call waits");
            for (Call c : admitted) {
                assertFalse(c.end().isDone(), "an admitted call ended early: " + c.end().getNow(null));
            }
        } finally {
            admitted.forEach(c -> c.context().cancel(null));
        }
        await(() -> admission.running("smollm2", AdmissionControl.Lane.HEAVY) == 0
                && admission.queued("smollm2", AdmissionControl.Lane.HEAVY) == 0
                && admission.heavyInFlight("reader") == 0 && admission.heavyInFlight("operator") == 0,
                "the lane and the quota empty");
    }

    @Test
    void theLedgerNamesTheTokenHolder() throws Exception {
        EditRequest edit = CheckpointServiceGrpcTest.example("stories260K-examples.jsonl", 0,
                SecuredServerProfile.MODEL);
        dev.engram.grpc.v1.Checkpoint committed = edits(SecuredServerProfile.EDIT_TOKEN).applyEdit(
                ApplyEditRequest.newBuilder().setEdit(edit).build()).getCheckpoint();
        assertEquals("editor", committed.getAuthor());
        edits(SecuredServerProfile.ADMIN_TOKEN).rollback(RollbackRequest.newBuilder()
                .setModel(SecuredServerProfile.MODEL).setTo("base").build());
        dev.engram.grpc.v1.ListCheckpointsResponse list = edits(SecuredServerProfile.ADMIN_TOKEN).listCheckpoints(
                ListCheckpointsRequest.newBuilder().setModel(SecuredServerProfile.MODEL).build());
        assertEquals("editor", list.getCheckpoints(0).getAuthor());
        java.util.List<String> movers = list.getHistoryList().stream().map(m -> m.getAuthor() + " " + m.getReason())
                .toList();
        assertEquals(java.util.List.of("editor commit", "operator rollback"), movers);
    }
}
