package dev.engram.cli;

import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ExportCheckpointRequest;
import dev.engram.grpc.v1.ExportCheckpointResponse;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** ExportCheckpoint: write a checkpoint in the Hugging Face layout on the server's export directory. */
@Command(name = "export", description = "Export a checkpoint in the Hugging Face layout (on the server's disk).")
final class ExportCommand extends ClientCommand {
    @Option(names = "--model", description = "default: the server's default model")
    String model;
    @Option(names = "--checkpoint", description = "default: the head")
    String checkpoint;
    @Option(names = "--name", description = "the export's directory name (default: the server names it "
            + "<model>-<checkpoint id>)")
    String name;

    @Override
    int run(ManagedChannel channel, PrintWriter out) {
        ExportCheckpointResponse r = server.prepare(EditServiceGrpc.newBlockingStub(channel)).exportCheckpoint(
                ExportCheckpointRequest.newBuilder().setModel(model(model, checkpoint)).setName(name == null ? "" : name).build());
        if (server.json) {
            ServerOptions.printJson(out, r, false);
        } else {
            out.printf("%s @ %s -> %s (%d files, %d bytes)%n", r.getModel().getName(), r.getModel().getCheckpoint(),
                    r.getDirectory(), r.getFilesCount(), r.getBytes());
        }
        return EngramCli.OK;
    }
}
