package dev.engram.service;

import dev.engram.grpc.v1.Checkpoint;
import dev.engram.grpc.v1.ChangedVector;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.HeadMoveEvent;
import dev.engram.grpc.v1.NeuronKind;
import dev.engram.grpc.v1.VerificationReport;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Param;
import dev.engram.store.CheckpointDiff;
import dev.engram.store.CheckpointRecord;
import dev.engram.store.HeadMove;
import java.util.List;

/** Between the checkpoint store's records and the protobuf messages of EditService. */
final class CheckpointMapper {
    private CheckpointMapper() {
    }

    /**
     * The ledger row; with {@code full}, also the request as committed and the report that passed (a joint batch's
     * first fact there, its other facts' in more_requests and more_reports).
     */
    static Checkpoint checkpoint(CheckpointRecord r, String head, boolean full) {
        List<EditRequest> requests = CommittedEdits.requests(r);
        EditRequest request = requests.get(0);
        Checkpoint.Builder out = Checkpoint.newBuilder().setId(r.id()).setModel(r.model()).setParentId(r.parentId())
                .setIsHead(r.id().equals(head)).setAuthor(r.author()).setCreatedAt(r.createdAt().toString())
                .setDeltaHash(r.deltaHash()).setVectors(r.vectors()).setParametersTouched(r.parametersTouched())
                .setDeltaNorm(r.deltaNorm()).setStoreBytes(r.storeBytes())
                .setPrompt(EditRequests.promptText(request)).setTargetNew(request.getTargetNew())
                .setTargetTrue(request.getTargetTrue()).setFacts(requests.size());
        if (full) {
            List<VerificationReport> reports = CommittedEdits.reports(r);
            out.setRequest(request).setReport(reports.get(0))
                    .addAllMoreRequests(requests.subList(1, requests.size()))
                    .addAllMoreReports(reports.subList(1, reports.size()));
        }
        return out.build();
    }

    static HeadMoveEvent move(HeadMove m) {
        return HeadMoveEvent.newBuilder().setSeq(m.seq()).setFrom(m.from()).setTo(m.to()).setReason(m.reason())
                .setAuthor(m.author()).setMovedAt(m.movedAt().toString()).build();
    }

    static ChangedVector changed(CheckpointDiff.Changed c, ModelConfig config) {
        Param p = c.key().param();
        ChangedVector.Builder out = ChangedVector.newBuilder().setLayer(c.key().layer()).setIndex(c.key().index())
                .setMatrix(p.name()).setDeltaNorm(c.deltaNorm()).setFromNorm(c.fromNorm()).setToNorm(c.toNorm())
                .setBaseNorm(c.baseNorm());
        boolean attention = p == Param.ATTN_O || p == Param.ATTN_V || p == Param.ATTN_Q || p == Param.ATTN_K;
        out.setKind(attention ? NeuronKind.NEURON_KIND_ATTENTION : NeuronKind.NEURON_KIND_FFN);
        if (p == Param.ATTN_O) {
            out.setHead(c.key().index() / config.headDim()).setDim(c.key().index() % config.headDim());
        }
        return out.build();
    }
}
