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

    /** The call fails with {@code code} and a message that starts with the offending field. */
    static void expect(Status.Code code, String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription() != null && e.getStatus().getDescription().startsWith(field),
                e.getStatus().toString());
    }
}
