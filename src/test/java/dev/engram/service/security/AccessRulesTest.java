package dev.engram.service.security;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ModelServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Token entries, the method → scope table, the loopback rule and the path scrubber, without a server. */
class AccessRulesTest {
    @Test
    void entriesHoldHashesAndScopes() {
        // sha256("s3cret") computed independently: printf %s s3cret | sha256sum
        String hash = "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0";
        assertEquals(hash, AccessTokens.sha256Hex("s3cret"));
        AccessTokens tokens = AccessTokens.parse(List.of("# operators", "", hash + " read,EDIT alice"), "test");
        assertEquals(1, tokens.size());
        assertEquals(new AccessTokens.Holder("alice", Set.of(AccessScope.READ, AccessScope.EDIT)),
                tokens.holder("s3cret").orElseThrow());
        assertTrue(tokens.holder("s3cret ").isEmpty());
        assertTrue(tokens.holder(hash).isEmpty(), "the stored hash is not a token");
    }

    @Test
    void malformedEntriesAreRefusedWithTheirLine() {
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                () -> AccessTokens.parse(List.of("my-plain-token read bob"), "f"));
        assertTrue(plain.getMessage().contains("entry 1") && plain.getMessage().contains("SHA-256"));
        String hash = AccessTokens.sha256Hex("x");
        assertThrows(IllegalArgumentException.class, () -> AccessTokens.parse(List.of(hash + " write bob"), "f"));
        assertThrows(IllegalArgumentException.class, () -> AccessTokens.parse(List.of(hash + " read"), "f"));
        assertThrows(IllegalArgumentException.class,
                () -> AccessTokens.parse(List.of(hash + " read a", hash + " edit b"), "f"));
    }

    @Test
    void everyRpcHasAScopeOfItsOwnAndTheOpenServicesNeedNone() {
        for (ServiceDescriptor service : List.of(ModelServiceGrpc.getServiceDescriptor(),
                AttributionServiceGrpc.getServiceDescriptor(), EditServiceGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : service.getMethods()) {
                assertTrue(MethodScopes.listed(m.getFullMethodName()), m.getFullMethodName() + " has no scope");
            }
        }
        assertEquals(Optional.of(AccessScope.READ), MethodScopes.required("engram.v1.ModelService/Predict"));
        assertEquals(Optional.of(AccessScope.EDIT), MethodScopes.required("engram.v1.EditService/ApplyEdit"));
        assertEquals(Optional.of(AccessScope.ADMIN), MethodScopes.required("engram.v1.EditService/Rollback"));
        assertEquals(Optional.of(AccessScope.ADMIN), MethodScopes.required("engram.v1.EditService/NotYetWritten"));
        assertEquals(Optional.empty(), MethodScopes.required("grpc.health.v1.Health/Check"));
        assertEquals(Optional.empty(),
                MethodScopes.required("grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
    }

    @Test
    void withoutTokensOnlyLoopbackMayListen() {
        AccessTokens none = AccessTokens.none();
        AccessTokens some = AccessTokens.parse(List.of(AccessTokens.sha256Hex("t") + " read r"), "test");
        assertDoesNotThrow(() -> AccessControl.check(none, "127.0.0.1"));
        assertDoesNotThrow(() -> AccessControl.check(none, "localhost"));
        assertDoesNotThrow(() -> AccessControl.check(none, "::1"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AccessControl.check(none, "0.0.0.0"));
        assertTrue(e.getMessage().contains("ENGRAM_AUTH_TOKENS"));
        assertDoesNotThrow(() -> AccessControl.check(some, "0.0.0.0"));
        assertFalse(AccessControl.isLoopback("0.0.0.0"));
    }

    @Test
    void absolutePathsLeaveStatusMessagesAndMethodNamesStay() {
        assertEquals("store: <path> (No space left on device)",
                PathFreeStatuses.scrub("store: /work/models/store/smollm2/ab12/delta.safetensors (No space left on device)"));
        assertEquals("cannot read <path>: denied", PathFreeStatuses.scrub("cannot read /etc/engram/tokens: denied"));
        String kept = "authorization: the token of 'r' lacks the 'edit' scope that EditService/ApplyEdit needs;"
                + " see https://example.org/a/b and 1/2/3";
        assertEquals(kept, PathFreeStatuses.scrub(kept));
    }
}
