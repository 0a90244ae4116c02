package dev.engram.service;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Every method of a service receives its request as bytes and parses it itself, so that a request that is no valid
 * message (a broken wire format, a string field holding invalid UTF-8) gets INVALID_ARGUMENT naming the problem. The
 * transport would parse it before any interceptor runs, and answer UNKNOWN "Application error processing RPC".
 */
final class RequestDecoding {
    /** Copies the request off the transport's buffers as it arrives: the typed parse may run on another thread. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private RequestDecoding() {
    }

    /** {@code service} with each method's request parsed by {@link #guarded(ServerMethodDefinition)}. */
    static ServerServiceDefinition guarded(ServerServiceDefinition service) {
        ServiceDescriptor original = service.getServiceDescriptor();
        List<ServerMethodDefinition<byte[], ?>> methods = service.getMethods().stream()
                .<ServerMethodDefinition<byte[], ?>>map(RequestDecoding::guarded).toList();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
                .setSchemaDescriptor(original.getSchemaDescriptor());
        methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
        ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(out::addMethod);
        return out.build();
    }

    private static <Q, R> ServerMethodDefinition<byte[], R> guarded(ServerMethodDefinition<Q, R> method) {
        MethodDescriptor<Q, R> typed = method.getMethodDescriptor();
        MethodDescriptor<byte[], R> raw = typed.toBuilder(BYTES, typed.getResponseMarshaller()).build();
        ServerCallHandler<byte[], R> handler = (call, headers) -> {
            ServerCall.Listener<Q> listener = method.getServerCallHandler().startCall(typed(call, typed), headers);
            return new ServerCall.Listener<>() {
                private boolean refused;

                @Override
                public void onMessage(byte[] bytes) {
                    if (refused) {
                        return;
                    }
                    Q request;
                    try {
                        request = typed.parseRequest(new ByteArrayInputStream(bytes));
                    } catch (RuntimeException e) {
                        refused = true;
                        call.close(Status.INVALID_ARGUMENT.withDescription("request: not a valid "
                                + typed.getBareMethodName() + " request message (" + reason(e) + ")"), new Metadata());
                        return;
                    }
                    listener.onMessage(request);
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        listener.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    listener.onCancel();
                }

                @Override
                public void onComplete() {
                    listener.onComplete();
                }

                @Override
                public void onReady() {
                    listener.onReady();
                }
            };
        };
        return ServerMethodDefinition.create(raw, handler);
    }

    /**
     * The raw call as the typed handler sees it. The request type appears in a server call's signature only in
     * {@code getMethodDescriptor()}, which answers the typed descriptor; every other operation goes to the raw call.
     */
    @SuppressWarnings("unchecked")
    private static <Q, R> ServerCall<Q, R> typed(ServerCall<byte[], R> raw, MethodDescriptor<Q, R> typed) {
        return new ForwardingServerCall.SimpleForwardingServerCall<>((ServerCall<Q, R>) (ServerCall<?, R>) raw) {
            @Override
            public MethodDescriptor<Q, R> getMethodDescriptor() {
                return typed;
            }
        };
    }

    /** The innermost cause's message: protobuf's own words ("invalid UTF-8", "malformed varint"). */
    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
