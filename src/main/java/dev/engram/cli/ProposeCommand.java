package dev.engram.cli;

import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** ProposeEdit: a dry run. Exit 0 when the edit would pass the gate, 3 when it would be refused. */
@Command(name = "propose", description = "Locate, edit and verify without committing (ProposeEdit); exit 3 if the gate refuses.")
final class ProposeCommand extends EditCommand {
    @Override
    int send(EditServiceGrpc.EditServiceBlockingStub edits, EditRequest request, PrintWriter out) {
        ProposeEditResponse p = edits.proposeEdit(ProposeEditRequest.newBuilder().setEdit(request).build());
        if (server.json) {
            ServerOptions.printJson(out, p, false);
        } else {
            out.println(ProposalText.of(p));
        }
        return p.getReport().getPassed() ? EngramCli.OK : EngramCli.REFUSED;
    }
}
