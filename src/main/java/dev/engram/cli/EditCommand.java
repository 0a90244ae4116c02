package dev.engram.cli;

import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import picocli.CommandLine.Mixin;

/** A subcommand that sends one edit (from --edit or flags) to the EditService. */
abstract class EditCommand extends ClientCommand {
    @Mixin
    EditInput edit;

    @Override
    final int run(ManagedChannel channel, PrintWriter out) throws Exception {
        return send(server.prepare(EditServiceGrpc.newBlockingStub(channel)), edit.request(), out);
    }

    abstract int send(EditServiceGrpc.EditServiceBlockingStub edits, EditRequest request, PrintWriter out);
}
