package dev.engram.cli;

import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.ApplyEditResponse;
import dev.engram.grpc.v1.EditServiceGrpc;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** ApplyEdit: verify, then commit as the model's new head; a refused edit exits 3 and commits nothing. */
@Command(name = "apply", description = "Locate, edit, verify and commit (ApplyEdit); exit 3 if the gate refuses.")
final class ApplyCommand extends ClientCommand {
    @Mixin
    EditInput edit;

    @Override
    int run(ManagedChannel channel, PrintWriter out) throws Exception {
        ApplyEditResponse r = server.prepare(EditServiceGrpc.newBlockingStub(channel))
                .applyEdit(ApplyEditRequest.newBuilder().setEdit(edit.request()).build());
        if (server.json) {
            ServerOptions.printJson(out, r, false);
        } else {
            out.println(ProposalText.of(r.getProposal()));
            out.println("committed " + r.getCheckpoint().getId() + " on " + r.getCheckpoint().getModel() + " (parent "
                    + r.getCheckpoint().getParentId() + ")");
        }
        return EngramCli.OK;
    }
}
