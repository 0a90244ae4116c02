package dev.engram.cli;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.VerificationReport;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.PrintWriter;

/** The verification report a refused ApplyEdit carries in its status details, read back and printed. */
final class RefusalReport {
    private RefusalReport() {
    }

    /** The report in {@code e}'s details, or null when there is none. */
    static VerificationReport of(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            return null;
        }
        for (Any detail : status.getDetailsList()) {
            if (detail.is(VerificationReport.class)) {
                try {
                    return detail.unpack(VerificationReport.class);
                } catch (InvalidProtocolBufferException bad) {
                    return null;
                }
            }
        }
        return null;
    }

    /**
     * Text: "REFUSED [gates]: message" and the report's figures; JSON: one object with the status ({@code code},
     * {@code message}) under "refused" and the report, every field included, under "report".
     */
    static void print(PrintWriter out, StatusRuntimeException e, VerificationReport report, boolean json) {
        if (json) {
            try {
                String status = JsonFormat.printer().omittingInsignificantWhitespace().print(
                        com.google.rpc.Status.newBuilder().setCode(e.getStatus().getCode().value())
                                .setMessage(String.valueOf(e.getStatus().getDescription())).build());
                String body = JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence()
                        .print(report);
                out.println("{\"refused\": " + status + ",\n\"report\": " + body + "}");
            } catch (InvalidProtocolBufferException bad) {
                throw new IllegalStateException(bad);
            }
        } else {
            String[] scores = ProposalText.scores(report);
            out.printf(java.util.Locale.ROOT, "REFUSED %s: %s%n  P(new) %.3f P(true) %.3f  PS %s NB %s SO %s RS %s%n",
                    report.getFailedGatesList().stream().map(g -> g.name().replace("GATE_", "")).toList(),
                    e.getStatus().getDescription(), report.getEfficacy().getNewProbability(),
                    report.getEfficacy().getTrueProbability(), scores[0], scores[1], scores[2], scores[3]);
        }
        out.flush();
    }
}
