package dev.engram.cli;

import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.RollbackRequest;
import dev.engram.grpc.v1.RollbackResponse;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Rollback: move a model's head to an earlier checkpoint (or 'base'); exit 7 when the head moved meanwhile. */
@Command(name = "rollback", description = "Move a model's head back (exit 7 if --expected-head no longer holds).")
final class RollbackCommand extends ClientCommand {
    @Option(names = "--model", defaultValue = "", description = "default: the server's default model")
    String model;
    @Option(names = "--to", required = true, description = "a checkpoint id (or unique prefix) or 'base'")
    String to;
    @Option(names = "--expected-head", defaultValue = "", description = "refuse unless this is still the head")
    String expectedHead;

    @Override
    int run(ManagedChannel channel, PrintWriter out) {
        RollbackResponse r = server.prepare(EditServiceGrpc.newBlockingStub(channel)).rollback(RollbackRequest
                .newBuilder().setModel(model).setTo(to).setExpectedHead(expectedHead).build());
        if (server.json) {
            ServerOptions.printJson(out, r, false);
        } else {
            out.printf("%s: head %s -> %s%n", r.getModel(), r.getPreviousHead(), r.getHead());
        }
        return EngramCli.OK;
    }
}
