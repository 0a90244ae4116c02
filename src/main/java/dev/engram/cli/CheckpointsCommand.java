package dev.engram.cli;

import dev.engram.grpc.v1.Checkpoint;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ListCheckpointsResponse;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** ListCheckpoints: a model's lineage, the head marked. */
@Command(name = "checkpoints", description = "A model's checkpoints, oldest first, the head marked with *.")
final class CheckpointsCommand extends ClientCommand {
    @Option(names = "--model", defaultValue = "", description = "default: the server's default model")
    String model;

    @Override
    int run(ManagedChannel channel, PrintWriter out) {
        ListCheckpointsResponse r = server.prepare(EditServiceGrpc.newBlockingStub(channel))
                .listCheckpoints(ListCheckpointsRequest.newBuilder().setModel(model).build());
        if (server.json) {
            ServerOptions.printJson(out, r, false);
            return EngramCli.OK;
        }
        out.printf("%s, head %s%n", r.getModel(), r.getHead());
        for (Checkpoint c : r.getCheckpointsList()) {
            out.printf("%s %-12s parent %-12s %s  %s -> %s  (%d parameters)%n", c.getIsHead() ? "*" : " ",
                    shortId(c.getId()), shortId(c.getParentId()), c.getCreatedAt(), LocateCommand.quoted(c.getPrompt()),
                    LocateCommand.quoted(c.getTargetNew()), c.getParametersTouched());
        }
        return EngramCli.OK;
    }

    static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
