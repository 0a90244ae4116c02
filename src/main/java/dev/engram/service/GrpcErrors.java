package dev.engram.service;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import dev.engram.runtime.Cancellation;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.StatusRuntimeException;
import dev.engram.store.CheckpointNotFoundException;
import dev.engram.store.HeadMovedException;
import io.smallrye.mutiny.subscription.MultiEmitter;
import java.io.IOException;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;
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

    /** The {@code google.rpc.BadRequest} in {@code e}'s status details, if it carries one. */
    static java.util.Optional<BadRequest> badRequest(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            return java.util.Optional.empty();
        }
        return status.getDetailsList().stream().filter(d -> d.is(BadRequest.class)).findFirst().map(d -> {
            try {
                return d.unpack(BadRequest.class);
            } catch (com.google.protobuf.InvalidProtocolBufferException bad) {
                throw new IllegalStateException(bad);
            }
        });
    }

    /**
     * Runs a call body on the current thread, bound to the current gRPC context's cancellation (see
     * {@link Cancellation}): status exceptions pass through, argument errors become INVALID_ARGUMENT, the rest INTERNAL.
     */
    public static <T> T call(Supplier<T> body) {
        return call(Context.current(), () -> false, body);
    }

    /**
     * Runs a call body that stops at its next {@link Cancellation#checkpoint()} once {@code context} is cancelled (the
     * client cancelled, or the deadline passed) or {@code alsoCancelled} says so (a stream's subscriber went away).
     */
    public static <T> T call(Context context, BooleanSupplier alsoCancelled, Supplier<T> body) {
        try {
            return Cancellation.run(() -> context.isCancelled() || alsoCancelled.getAsBoolean(), body);
        } catch (RuntimeException e) {
            throw toStatus(e);
        } catch (OutOfMemoryError e) {
            throw toStatus(e);
        }
    }

    /**
     * A call that ran out of heap or direct-buffer memory: RESOURCE_EXHAUSTED (the allocation that failed is released
     * with the call, and the server goes on), naming the JVM limits an operator raises.
     */
    private static StatusRuntimeException outOfMemory(OutOfMemoryError e) {
        LOG.error("a call ran out of memory", e);
        return Status.RESOURCE_EXHAUSTED.withDescription("memory: the server ran out of memory for this call ("
                + e.getMessage() + "); retry later, or raise its -Xmx / -XX:MaxDirectMemorySize").asRuntimeException();
    }

    /**
     * Runs a server stream's body on the current thread: bound to the call's cancellation and to the subscriber's, then
     * completed, or failed with the status {@link #toStatus} gives.
     */
    public static <T> void stream(Context context, MultiEmitter<? super T> emitter, Runnable body) {
        try {
            call(context, emitter::isCancelled, () -> {
                body.run();
                return null;
            });
            emitter.complete();
        } catch (RuntimeException e) {
            emitter.fail(toStatus(e));
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
        if (e instanceof OutOfMemoryError oom) {
            return outOfMemory(oom);
        }
        if (e instanceof Cancellation.Cancelled) {
            return Status.CANCELLED.withDescription("call: cancelled by the client or past its deadline; stopped")
                    .asRuntimeException();
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
