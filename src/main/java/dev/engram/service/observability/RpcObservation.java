package dev.engram.service.observability;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * The outermost interceptor: gives every call a request id (the client's {@code x-request-id} when it sends a sane
 * one, else a fresh UUID) and sends it back in the response headers and trailers; when the call ends, times it into
 * {@code engram_rpc_seconds{method, status}} and logs one line with the id, method, status, caller and duration
 * (JSON with {@code ENGRAM_LOG_JSON=true}, the fields as MDC keys).
 */
@ApplicationScoped
@GlobalInterceptor
@Priority(300)
public class RpcObservation implements ServerInterceptor {
    /**
     * The latency histogram's bucket bounds, from a quick Predict to a long edit: 16 buckets per method and status
     * (Micrometer's percentile histogram would publish 69).
     */
    static final java.time.Duration[] LATENCY_BUCKETS = java.util.stream.DoubleStream.of(0.005, 0.01, 0.025, 0.05,
            0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300, 600).mapToObj(s -> java.time.Duration.ofNanos(
                    (long) (s * 1e9))).toArray(java.time.Duration[]::new);

    public static final Metadata.Key<String> REQUEST_ID = Metadata.Key.of("x-request-id",
            Metadata.ASCII_STRING_MARSHALLER);
    private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final Logger LOG = Logger.getLogger("dev.engram.rpc");

    private final MeterRegistry registry;

    public RpcObservation(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String given = headers.get(REQUEST_ID);
        String requestId = given != null && SANE_ID.matcher(given).matches() ? given : UUID.randomUUID().toString();
        String method = call.getMethodDescriptor().getFullMethodName();
        long start = System.nanoTime();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            private boolean headersSent;

            @Override
            public void sendHeaders(Metadata responseHeaders) {
                responseHeaders.put(REQUEST_ID, requestId);
                headersSent = true;
                super.sendHeaders(responseHeaders);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                if (!headersSent) {
                    trailers.put(REQUEST_ID, requestId);
                }
                long nanos = System.nanoTime() - start;
                Timer.builder("engram.rpc").description("gRPC calls by method and final status")
                        .tags("method", method, "status", status.getCode().name())
                        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry)
                        .record(nanos, TimeUnit.NANOSECONDS);
                log(requestId, method, status, nanos / 1_000_000);
                super.close(status, trailers);
            }
        }, headers);
    }

    private static void log(String requestId, String method, Status status, long millis) {
        MDC.put("requestId", requestId);
        MDC.put("method", method);
        MDC.put("status", status.getCode().name());
        MDC.put("millis", Long.toString(millis));
        try {
            LOG.infof("%s %s %d ms [%s]", method, status.getCode(), millis, requestId);
        } finally {
            MDC.remove("requestId");
            MDC.remove("method");
            MDC.remove("status");
            MDC.remove("millis");
        }
    }
}
