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
 * reflection stay open, and the port speaks TLS only.
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
}
