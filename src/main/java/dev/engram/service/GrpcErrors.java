package dev.engram.service;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.StatusRuntimeException;
import dev.engram.store.CheckpointNotFoundException;
import dev.engram.store.HeadMovedException;
import java.io.IOException;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/** Turns every failure of a call into a gRPC status whose message names what was wrong. */
public final class GrpcErrors {
    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    /**
     * INVALID_ARGUMENT with a message that starts with the offending field, and the same as a
     * {@code google.rpc.BadRequest} field violation in the status details.
     */
    public static StatusRuntimeException invalid(String field, String problem) {
        return invalidMessage(field + ": " + problem);
    }

    /** INVALID_ARGUMENT for a message of the form "field: problem" (the field becomes the violation's field). */
    static StatusRuntimeException invalidMessage(String message) {
        int colon = message == null ? -1 : message.indexOf(": ");
        String field = colon > 0 && !message.substring(0, colon).contains(" ") ? message.substring(0, colon) : "";
        String problem = colon > 0 && !field.isEmpty() ? message.substring(colon + 2) : String.valueOf(message);
        BadRequest details = BadRequest.newBuilder().addFieldViolations(
                BadRequest.FieldViolation.newBuilder().setField(field).setDescription(problem)).build();
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(Status.Code.INVALID_ARGUMENT.value()).setMessage(String.valueOf(message))
                .addDetails(Any.pack(details)).build();
        return StatusProto.toStatusRuntimeException(status);
    }

    /** Runs a call body: status exceptions pass through, argument errors become INVALID_ARGUMENT, the rest INTERNAL. */
    public static <T> T call(Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw toStatus(e);
        }
    }

    /** A call into the checkpoint store, whose checked failures become statuses. */
    @FunctionalInterface
    public interface StoreCall<T> {
        T get() throws IOException, SQLException, HeadMovedException;
    }

    /**
     * Runs a store call: a moved head is ABORTED naming the new head, a ledger failure UNAVAILABLE, a file failure
     * INTERNAL; unchecked failures as {@link #toStatus}.
     */
    public static <T> T store(StoreCall<T> body) {
        try {
            return body.get();
        } catch (HeadMovedException e) {
            throw Status.ABORTED.withDescription(e.getMessage()).asRuntimeException();
        } catch (SQLException e) {
            LOG.error("ledger failure", e);
            throw Status.UNAVAILABLE.withDescription("ledger: " + e.getMessage()).withCause(e).asRuntimeException();
        } catch (IOException e) {
            LOG.error("store failure", e);
            throw Status.INTERNAL.withDescription("store: " + e.getMessage()).withCause(e).asRuntimeException();
        } catch (RuntimeException e) {
            throw toStatus(e);
        }
    }

    public static StatusRuntimeException toStatus(Throwable e) {
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        if (e instanceof CheckpointNotFoundException) {
            return Status.NOT_FOUND.withDescription(e.getMessage()).asRuntimeException();
        }
        // a malformed format string is our bug, not the caller's, though Java files it under IllegalArgumentException
        if (e instanceof IllegalArgumentException && !(e instanceof java.util.IllegalFormatException)) {
            return invalidMessage(e.getMessage());
        }
        LOG.error("request failed", e);
        return Status.INTERNAL.withDescription(e.getClass().getSimpleName() + ": " + e.getMessage())
                .asRuntimeException();
    }
}
