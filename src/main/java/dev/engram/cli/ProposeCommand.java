package dev.engram.cli;

import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** ProposeEdit: a dry run. Exit 0 when the edit would pass the gate, 3 when it would be refused. */
@Command(name = "propose", description = "Locate, edit and verify without committing (ProposeEdit); exit 3 if the gate refuses.")
final class ProposeCommand extends ClientCommand {
    @Mixin
    EditInput edit;

    @Override
    int run(ManagedChannel channel, PrintWriter out) throws Exception {
        ProposeEditResponse p = server.prepare(EditServiceGrpc.newBlockingStub(channel))
                .proposeEdit(ProposeEditRequest.newBuilder().setEdit(edit.request()).build());
        if (server.json) {
            ServerOptions.printJson(out, p, false);
        } else {
            out.println(ProposalText.of(p));
        }
        return p.getReport().getPassed() ? EngramCli.OK : EngramCli.REFUSED;
    }
}
