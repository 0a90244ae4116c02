package dev.engram.service.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;

/**
 * Checks {@code authorization: Bearer <token>} on every call against the configured tokens and the scope the method
 * needs ({@link MethodScopes}): UNAUTHENTICATED without a known token, PERMISSION_DENIED without the scope. The tokens
 * are those of the moment ({@link AccessControl#tokens}). With no tokens at start every call passes (the server then
 * listens on loopback only; see {@link AccessControl}).
 */
@ApplicationScoped
@GlobalInterceptor
@Priority(100)
public class BearerAuthInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);
    /** The name of the token holder of the current call, for logs. */
    public static final Context.Key<String> CALLER = Context.key("engram-caller");
    private static final String BEARER = "Bearer ";
    /** Who a call comes from on a server without tokens. */
    public static final String ANONYMOUS = "anonymous";

    /** The token holder of the current call (the author the ledger records), or {@link #ANONYMOUS}. */
    public static String caller() {
        String name = CALLER.get();
        return name == null ? ANONYMOUS : name;
    }

    @Inject
    AccessControl access;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        Optional<AccessScope> needed = MethodScopes.required(method);
        if (needed.isEmpty() || !access.authenticating()) {
            return next.startCall(call, headers);
        }
        String header = headers.get(AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription(
                    "authorization: this server needs an 'authorization: Bearer <token>' header"));
        }
        Optional<AccessTokens.Holder> holder = access.tokens().holder(header.substring(BEARER.length()).strip());
        if (holder.isEmpty()) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription("authorization: unknown token"));
        }
        if (!holder.get().scopes().contains(needed.get())) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription("authorization: the token of '"
                    + holder.get().name() + "' lacks the '" + needed.get().label() + "' scope that "
                    + method.substring(method.lastIndexOf('.') + 1) + " needs"));
        }
        return Contexts.interceptCall(Context.current().withValue(CALLER, holder.get().name()), call, headers, next);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {
        };
    }
}
