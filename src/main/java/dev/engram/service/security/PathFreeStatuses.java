package dev.engram.service.security;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.regex.Pattern;

/**
 * The last guard on what a client reads: any absolute file path in a status message (an I/O error's, say) becomes
 * {@code <path>}. The server log keeps the full message.
 */
@ApplicationScoped
@GlobalInterceptor
@Priority(200)
public class PathFreeStatuses implements ServerInterceptor {
    /** An absolute path of at least two segments, not inside a word (so "Service/Method" stays). */
    private static final Pattern ABSOLUTE_PATH = Pattern.compile("(?<![\\w.:/-])(/[\\w.@+~-]+){2,}/?");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                super.close(scrub(status), trailers);
            }
        }, headers);
    }

    static Status scrub(Status status) {
        String description = status.getDescription();
        if (description == null) {
            return status;
        }
        String clean = scrub(description);
        return clean.equals(description) ? status : status.withDescription(clean);
    }

    static String scrub(String message) {
        return ABSOLUTE_PATH.matcher(message).replaceAll("<path>");
    }
}
