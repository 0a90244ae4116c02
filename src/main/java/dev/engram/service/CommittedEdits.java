package dev.engram.service;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.JointEdit;
import dev.engram.grpc.v1.JointReport;
import dev.engram.grpc.v1.VerificationReport;
import dev.engram.store.CheckpointRecord;
import java.util.List;

/**
 * What a ledger row says was committed, read back: its requests and reports, in proto JSON. A single edit stores one
 * EditRequest and one VerificationReport; a joint batch stores a {@link JointEdit} and a {@link JointReport}, one entry
 * per fact. The only place that knows the two forms.
 */
final class CommittedEdits {
    private CommittedEdits() {
    }

    /** The JSON a ledger row holds for a joint batch's requests. */
    static String jointRequestJson(List<EditRequest> edits) {
        return EditPipeline.json(JointEdit.newBuilder().addAllEdits(edits).build());
    }

    /** The JSON a ledger row holds for a joint batch's reports. */
    static String jointReportJson(List<VerificationReport> reports) {
        return EditPipeline.json(JointReport.newBuilder().addAllFacts(reports).build());
    }

    /** The row's requests: one, or a joint batch's, in order. */
    static List<EditRequest> requests(CheckpointRecord r) {
        if (joint(r.requestJson())) {
            JointEdit.Builder b = JointEdit.newBuilder();
            merge(r, r.requestJson(), b);
            return b.getEditsList();
        }
        return List.of(EditRequests.parseJson(r.requestJson()));
    }

    /** The row's reports: one, or a joint batch's, in the order of {@link #requests}. */
    static List<VerificationReport> reports(CheckpointRecord r) {
        if (joint(r.requestJson())) {
            JointReport.Builder b = JointReport.newBuilder();
            merge(r, r.reportJson(), b);
            return b.getFactsList();
        }
        VerificationReport.Builder b = VerificationReport.newBuilder();
        merge(r, r.reportJson(), b);
        return List.of(b.build());
    }

    /** A joint batch's JSON opens with its one field, {@code edits}. */
    private static boolean joint(String requestJson) {
        return requestJson.startsWith("{\"edits\":");
    }

    private static void merge(CheckpointRecord r, String json, com.google.protobuf.Message.Builder into) {
        try {
            JsonFormat.parser().merge(json, into);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("checkpoint " + r.id() + ": its stored request or report does not parse", e);
        }
    }
}
