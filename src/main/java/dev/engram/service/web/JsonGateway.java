package dev.engram.service.web;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.AttributionServiceGrpc;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ModelServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.quarkus.runtime.LaunchMode;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * JSON over HTTP for the neuron explorer: {@code POST /api/v1/<Service>/<Method>} with a request in proto JSON, for
 * every unary method of ModelService, AttributionService and EditService. Each call is forwarded to this server's own
 * gRPC port over loopback with the caller's {@code Authorization} header, so tokens and scopes, admission control,
 * validation, metrics and error messages are exactly those of gRPC. A gRPC status comes back as an HTTP status with
 * {@code {"code", "message"}}.
 */
@Path("/api/v1")
@ApplicationScoped
public class JsonGateway {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);
    private final Map<String, MethodDescriptor<?, ?>> unary = new HashMap<>();
    private final ManagedChannel channel;

    public JsonGateway(@ConfigProperty(name = "quarkus.grpc.server.port") int port,
            @ConfigProperty(name = "quarkus.grpc.server.test-port") int testPort) {
        for (ServiceDescriptor service : new ServiceDescriptor[] {ModelServiceGrpc.getServiceDescriptor(),
            AttributionServiceGrpc.getServiceDescriptor(), EditServiceGrpc.getServiceDescriptor()}) {
            for (MethodDescriptor<?, ?> m : service.getMethods()) {
                if (m.getType() == MethodDescriptor.MethodType.UNARY) {
                    unary.put(m.getServiceName().substring(m.getServiceName().lastIndexOf('.') + 1) + "/"
                            + m.getBareMethodName(), m);
                }
            }
        }
        int grpcPort = LaunchMode.current() == LaunchMode.TEST ? testPort : port;
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    }

    @PreDestroy
    void close() {
        channel.shutdownNow();
    }

    @POST
    @Path("{service}/{method}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Blocking
    public Response call(@PathParam("service") String service, @PathParam("method") String method,
            @HeaderParam("Authorization") String authorization, String body) {
        MethodDescriptor<?, ?> descriptor = unary.get(service + "/" + method);
        if (descriptor == null) {
            return error(404, "NOT_FOUND", "no unary method " + service + "/" + method);
        }
        @SuppressWarnings("unchecked")
        MethodDescriptor<Message, Message> typed = (MethodDescriptor<Message, Message>) descriptor;
        return forward(typed, authorization, body);
    }

    private Response forward(MethodDescriptor<Message, Message> descriptor, String authorization, String body) {
        Message prototype = ((MethodDescriptor.PrototypeMarshaller<Message>) descriptor.getRequestMarshaller())
                .getMessagePrototype();
        Message.Builder request = prototype.newBuilderForType();
        try {
            JsonFormat.parser().merge(body == null || body.isBlank() ? "{}" : body, request);
        } catch (InvalidProtocolBufferException e) {
            return error(400, "INVALID_ARGUMENT", "body: not a " + prototype.getDescriptorForType().getFullName()
                    + " in proto JSON: " + e.getMessage());
        }
        Metadata headers = new Metadata();
        if (authorization != null) {
            headers.put(AUTHORIZATION, authorization);
        }
        try {
            io.grpc.Channel withHeaders = io.grpc.ClientInterceptors.intercept(channel,
                    MetadataUtils.newAttachHeadersInterceptor(headers));
            Message response = ClientCalls.blockingUnaryCall(withHeaders, descriptor,
                    CallOptions.DEFAULT.withDeadlineAfter(600, TimeUnit.SECONDS), request.build());
            return Response.ok(JsonFormat.printer().preservingProtoFieldNames().print(response)).build();
        } catch (StatusRuntimeException e) {
            return error(HttpStatuses.of(e.getStatus().getCode()), e.getStatus().getCode().name(),
                    e.getStatus().getDescription());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Response error(int status, String code, String message) {
        String json = "{\"code\": " + quote(code) + ", \"message\": " + quote(message == null ? "" : message) + "}";
        return Response.status(status).entity(json).type(MediaType.APPLICATION_JSON).build();
    }

    private static String quote(String s) {
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
    }
}
