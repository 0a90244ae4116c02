package dev.engram.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.PrintWriter;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/** Where the server is, who is calling, and how to print: the options every client subcommand shares. */
final class ServerOptions {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);

    @Option(names = "--address", defaultValue = "${env:ENGRAM_ADDRESS:-localhost:9000}",
            description = "host:port of the server (env ENGRAM_ADDRESS; default ${DEFAULT-VALUE})")
    String address;

    @Option(names = "--token", defaultValue = "${env:ENGRAM_TOKEN}",
            description = "bearer token (env ENGRAM_TOKEN)")
    String token;

    @Option(names = "--tls", description = "use TLS (the JVM's trust store)")
    boolean tls;

    @Option(names = "--timeout", defaultValue = "600", description = "seconds before the call gives up (default ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--json", description = "print the server's response as JSON (one object per line for streams), "
            + "every field included, also those at their default value (0, false, empty)")
    boolean json;

    ManagedChannel channel() {
        ManagedChannelBuilder<?> b = ManagedChannelBuilder.forTarget(address);
        return (tls ? b.useTransportSecurity() : b.usePlaintext()).build();
    }

    /** {@code stub} with the token and the deadline. */
    <S extends AbstractStub<S>> S prepare(S stub) {
        S s = stub.withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
        if (token != null && !token.isBlank()) {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + token);
            s = s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return s;
    }

    /**
     * {@code message} as JSON with the proto's field names and every field, also those at their default value, so that a
     * pipeline can tell {@code false} or {@code 0} from a field that is missing.
     */
    static void printJson(PrintWriter out, MessageOrBuilder message, boolean oneLine) {
        try {
            JsonFormat.Printer printer = JsonFormat.printer().preservingProtoFieldNames()
                    .alwaysPrintFieldsWithNoPresence();
            out.println(oneLine ? printer.omittingInsignificantWhitespace().print(message) : printer.print(message));
            out.flush();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    static void close(ManagedChannel channel) {
        try {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
