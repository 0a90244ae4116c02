package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.function.Executable;

/** A real gRPC channel to the test server (port 9001), shared by the service tests. */
abstract class GrpcClientTest {
    static final int TEST_PORT = 9001;
    static ManagedChannel channel;

    @BeforeAll
    static void openChannel() {
        channel = ManagedChannelBuilder.forAddress("localhost", TEST_PORT).usePlaintext().build();
    }

    @AfterAll
    static void closeChannel() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /**
     * The call fails with {@code code} and a message that starts with the offending field; an INVALID_ARGUMENT also
     * carries a google.rpc.BadRequest field violation naming that field, with the same message.
     */
    static StatusRuntimeException expect(Status.Code code, String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        String message = e.getStatus().getDescription();
        assertTrue(message != null && message.startsWith(field), e.getStatus().toString());
        if (code == Status.Code.INVALID_ARGUMENT) {
            com.google.rpc.Status details = io.grpc.protobuf.StatusProto.fromThrowable(e);
            assertTrue(details != null && details.getDetailsCount() == 1, "no BadRequest details: " + e.getStatus());
            try {
                com.google.rpc.BadRequest bad = details.getDetails(0).unpack(com.google.rpc.BadRequest.class);
                com.google.rpc.BadRequest.FieldViolation v = bad.getFieldViolations(0);
                assertEquals(message.substring(0, message.indexOf(": ")), v.getField());
                assertEquals(message, v.getField() + ": " + v.getDescription());
            } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                throw new AssertionError(ex);
            }
        }
        return e;
    }
}
