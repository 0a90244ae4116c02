package dev.engram.service;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditResult;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import dev.engram.runtime.Model;
import dev.engram.service.observability.EditMetrics;
import dev.engram.store.CheckpointRecord;
import dev.engram.verification.EarlierEdits;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.VerifiedEdit;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.BooleanSupplier;

/**
 * Locate → edit → verify on the view a request names, and, for ApplyEdit and BatchEdit, commit: only a delta whose
 * report passed every gate reaches the store, as a child of the checkpoint it was verified on.
 */
@ApplicationScoped
public class EditPipeline {
    /** Whoever commits without an authenticated principal. */
    public static final String ANONYMOUS = "anonymous";

    private final ModelViews views;
    private final EngramConfig config;
    private final SentinelPrompts sentinels;
    private final AdmissionControl admission;
    private final EditMetrics metrics;
    /** Verified proposals kept for an identical request on the same checkpoint (a ProposeEdit, then its ApplyEdit). */
    private final ProposalCache proposals = new ProposalCache(16);
    /** The accepted edits of recently used lineages, which the retention gate re-scores. */
    private final LineageEdits lineages = new LineageEdits();

    public EditPipeline(ModelViews views, EngramConfig config, SentinelPrompts sentinels, AdmissionControl admission,
            EditMetrics metrics) {
        this.views = views;
        this.metrics = metrics;
        this.admission = admission;
        this.config = config;
        this.sentinels = sentinels;
    }

    /** A verified edit that has not been committed. */
    public record Proposal(ModelViews.View parent, EditResult result, VerificationReport report,
            ProposeEditResponse response) {
    }

    /** Locates, edits and verifies in a heavy slot of the request's model (see {@link AdmissionControl}). */
    public Proposal propose(EditRequest r) {
        return admission.run(r.getModel().getName(), AdmissionControl.Lane.HEAVY, () -> proposeNow(r));
    }

    private Proposal proposeNow(EditRequest r) {
        long start = System.nanoTime();
        ModelViews.View parent = views.resolve(r.getModel());
        Model model = parent.model();
        EditRequests.Checked checked = EditRequests.check(r, model, config);
        String key = ProposalCache.key(parent, r);
        Proposal known = proposals.get(key);
        if (known != null) {
            metrics.reused(model.name());
            return new Proposal(parent, known.result(), known.report(), known.response());
        }
        EditCase edit = checked.edit().withEarlier(EarlierEdits.sample(
                lineages.of(views.store(), model, parent.checkpoint()), checked.thresholds().earlierEditChecks(),
                parent.checkpoint().hashCode()));
        VerifiedEdit run = VerifiedEdit.run(model, edit, checked.options(), checked.thresholds(),
                sentinels.of(model.name()));
        metrics.verified(model.name(), run.report());
        ProposeEditResponse response = EditMapper.proposal(checked, parent.ref(), run.result(), run.report(),
                (System.nanoTime() - start) / 1_000_000);
        Proposal made = new Proposal(parent, run.result(), run.report(), response);
        proposals.put(key, made);
        return made;
    }

    /**
     * Commits a proposal whose report passed, as the model's new head: FAILED_PRECONDITION with the report in the
     * status details when a gate failed, CANCELLED when {@code cancelled} says so before anything is written, ABORTED
     * when the head is no longer the proposal's parent.
     */
    public CheckpointRecord commit(EditRequest request, Proposal p, String author, BooleanSupplier cancelled) {
        String model = p.parent().model().name();
        if (!p.report().passed()) {
            metrics.refused(model, p.report());
            throw gateFailed(p.response());
        }
        if (cancelled.getAsBoolean()) {
            throw Status.CANCELLED.withDescription("cancelled before the commit; nothing was written")
                    .asRuntimeException();
        }
        // the request as committed names the parent it was verified on and the target_true it replaced, which the
        // retention gate of later edits re-scores
        EditRequest asCommitted = request.toBuilder().setModel(p.parent().ref())
                .setTargetTrue(p.response().getTargetTrue()).build();
        CheckpointRecord record = GrpcErrors.store(() -> views.store().commit(model, p.parent().checkpoint(),
                p.result().delta(), json(asCommitted), json(p.response().getReport()), author));
        metrics.committed(model);
        return record;
    }

    /**
     * FAILED_PRECONDITION naming each failed gate and why, with the report in the details. Status details travel in
     * HTTP/2 trailers, which clients cap (grpc-java: 8 KiB), so the report there keeps every number but drops the
     * top-5 lists and the fluency texts, and lists only the sentinels that failed; ProposeEdit returns it in full.
     */
    static StatusRuntimeException gateFailed(ProposeEditResponse response) {
        dev.engram.grpc.v1.VerificationReport report = response.getReport();
        String failed = String.join("; ", report.getGatesList().stream().filter(g -> !g.getPassed())
                .map(g -> g.getGate().name().replace("GATE_", "") + ": " + g.getDetail()).toList());
        dev.engram.grpc.v1.VerificationReport.Builder compact = report.toBuilder().clearSentinels()
                .setFluency(report.getFluency().toBuilder().clearParentText().clearEditedText());
        compact.setEfficacy(withoutTops(report.getEfficacy()));
        compact.clearParaphrases().clearNeighbours().clearEarlierEdits();
        report.getParaphrasesList().forEach(p -> compact.addParaphrases(withoutTops(p)));
        report.getEarlierEditsList().forEach(p -> compact.addEarlierEdits(withoutTops(p)));
        report.getNeighboursList().forEach(p -> compact.addNeighbours(withoutTops(p)));
        report.getSentinelsList().stream().filter(p -> !p.getSuccess()).forEach(p -> compact.addSentinels(withoutTops(p)));
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(Status.Code.FAILED_PRECONDITION.value())
                .setMessage("verification failed: " + failed + "; nothing was committed")
                .addDetails(Any.pack(compact.build())).build();
        return StatusProto.toStatusRuntimeException(status);
    }

    private static dev.engram.grpc.v1.PromptReport withoutTops(dev.engram.grpc.v1.PromptReport p) {
        return p.toBuilder().clearTopBefore().clearTopAfter().build();
    }

    static String json(com.google.protobuf.MessageOrBuilder message) {
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
