package dev.engram.service;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/** Turns every failure of a call into a gRPC status whose message names what was wrong. */
public final class GrpcErrors {
    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    /** INVALID_ARGUMENT with a message that starts with the offending field. */
    public static StatusRuntimeException invalid(String field, String problem) {
        return Status.INVALID_ARGUMENT.withDescription(field + ": " + problem).asRuntimeException();
    }

    /** Runs a call body: status exceptions pass through, argument errors become INVALID_ARGUMENT, the rest INTERNAL. */
    public static <T> T call(Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw toStatus(e);
        }
    }

    public static StatusRuntimeException toStatus(Throwable e) {
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        // a malformed format string is our bug, not the caller's, though Java files it under IllegalArgumentException
        if (e instanceof IllegalArgumentException && !(e instanceof java.util.IllegalFormatException)) {
            return Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
        LOG.error("request failed", e);
        return Status.INTERNAL.withDescription(e.getClass().getSimpleName() + ": " + e.getMessage())
                .asRuntimeException();
    }
}
