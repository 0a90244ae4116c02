package dev.engram.cli;

import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.ApplyEditResponse;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.EditServiceGrpc;
import dev.engram.grpc.v1.VerificationReport;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/**
 * ApplyEdit: verify, then commit as the model's new head; a refused edit exits 3, commits nothing, and prints the
 * verification report the refusal carries (with --json, as {@code {"refused": {...status...}, "report": {...}}}).
 */
@Command(name = "apply", description = "Locate, edit, verify and commit (ApplyEdit); exit 3 if the gate refuses, "
        + "printing the report.")
final class ApplyCommand extends EditCommand {
    @Override
    int send(EditServiceGrpc.EditServiceBlockingStub edits, EditRequest request, PrintWriter out) {
        ApplyEditResponse r;
        try {
            r = edits.applyEdit(ApplyEditRequest.newBuilder().setEdit(request).build());
        } catch (StatusRuntimeException e) {
            VerificationReport report = RefusalReport.of(e);
            if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION || report == null) {
                throw e;
            }
            RefusalReport.print(out, e, report, server.json);
            return EngramCli.REFUSED;
        }
        if (server.json) {
            ServerOptions.printJson(out, r, false);
        } else {
            out.println(ProposalText.of(r.getProposal()));
            out.printf("committed %s on %s (parent %s)%n", r.getCheckpoint().getId(), r.getCheckpoint().getModel(),
                    r.getCheckpoint().getParentId());
        }
        return EngramCli.OK;
    }
}
