package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/** How failures inside a call body become statuses. */
class GrpcErrorsTest {
    /**
     * A call that cannot get its memory is RESOURCE_EXHAUSTED naming the limits, not UNKNOWN (found in the soak: an
     * export under -Xmx512m without -XX:MaxDirectMemorySize, whose message this is).
     */
    @Test
    void runningOutOfMemoryIsResourceExhausted() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GrpcErrors.call(() -> {
            throw new OutOfMemoryError("Cannot reserve 3538944 bytes of direct buffer memory (allocated: 535842750, "
                    + "limit: 536870912)");
        }));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith("memory: the server ran out of memory for this call"),
                e.getStatus().getDescription());
        assertTrue(e.getStatus().getDescription().contains("MaxDirectMemorySize"), e.getStatus().getDescription());
    }
}
