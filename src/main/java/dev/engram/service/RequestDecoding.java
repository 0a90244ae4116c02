package dev.engram.service;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
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
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
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
            ServerCall.Listener<Q> listener = method.getServerCallHandler().startCall(new TypedCall<>(call, typed),
                    headers);
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

    /** The innermost cause's message: protobuf's own words ("invalid UTF-8", "malformed varint"). */
    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** The call as the typed handler sees it: every operation goes to the raw call. */
    private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
        private final ServerCall<byte[], R> raw;
        private final MethodDescriptor<Q, R> typed;

        TypedCall(ServerCall<byte[], R> raw, MethodDescriptor<Q, R> typed) {
            this.raw = raw;
            this.typed = typed;
        }

        @Override
        public void request(int numMessages) {
            raw.request(numMessages);
        }

        @Override
        public void sendHeaders(Metadata headers) {
            raw.sendHeaders(headers);
        }

        @Override
        public void sendMessage(R message) {
            raw.sendMessage(message);
        }

        @Override
        public boolean isReady() {
            return raw.isReady();
        }

        @Override
        public void close(Status status, Metadata trailers) {
            raw.close(status, trailers);
        }

        @Override
        public boolean isCancelled() {
            return raw.isCancelled();
        }

        @Override
        public void setMessageCompression(boolean enabled) {
            raw.setMessageCompression(enabled);
        }

        @Override
        public void setCompression(String compressor) {
            raw.setCompression(compressor);
        }

        @Override
        public SecurityLevel getSecurityLevel() {
            return raw.getSecurityLevel();
        }

        @Override
        public Attributes getAttributes() {
            return raw.getAttributes();
        }

        @Override
        public String getAuthority() {
            return raw.getAuthority();
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return typed;
        }
    }
}
