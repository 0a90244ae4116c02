package dev.engram.service;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.engram.editing.BatchEditMethod;
import dev.engram.editing.EarlierEdit;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditResult;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import dev.engram.runtime.Model;
import dev.engram.service.observability.EditMetrics;
import dev.engram.store.CheckpointRecord;
import dev.engram.verification.EarlierEdits;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.VerifiedBatch;
import dev.engram.verification.VerifiedEdit;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Locate → edit → verify on the view a request names, and, for ApplyEdit and BatchEdit, commit: only a delta whose
 * report passed every gate reaches the store, as a child of the checkpoint it was verified on.
 */
@ApplicationScoped
public class EditPipeline {
    /** Whoever commits without an authenticated principal. */

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

    /**
     * A joint batch solved and verified, not committed: per line, either its error (the line is invalid) or its
     * response; {@code batch} is null when any line was invalid.
     */
    public record JointProposal(ModelViews.View parent, List<StatusRuntimeException> errors,
            List<ProposeEditResponse> responses, VerifiedBatch batch) {

        boolean valid() {
            return batch != null;
        }
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
        EditCase edit = checked.edit().withEarlier(earlierEdits(parent, checked.thresholds().earlierEditChecks()));
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
     * Checks every request of a joint batch and, when all are valid, solves them together as one delta on the head and
     * verifies each fact on the jointly edited model, in one heavy slot of the first request's model: every request must
     * name that model at the same checkpoint, a method that batches and the first request's options.
     */
    public JointProposal proposeJoint(List<EditRequest> requests) {
        return admission.run(requests.get(0).getModel().getName(), AdmissionControl.Lane.HEAVY,
                () -> proposeJointNow(requests));
    }

    private JointProposal proposeJointNow(List<EditRequest> requests) {
        long start = System.nanoTime();
        ModelViews.View parent = views.resolve(requests.get(0).getModel());
        Model model = parent.model();
        List<StatusRuntimeException> errors = new ArrayList<>();
        List<EditRequests.Checked> checked = new ArrayList<>();
        for (EditRequest r : requests) {
            try {
                checked.add(checkJointLine(r, parent, checked.isEmpty() ? null : checked.get(0)));
                errors.add(null);
            } catch (RuntimeException e) {
                checked.add(null);
                errors.add(GrpcErrors.toStatus(e));
            }
        }
        if (errors.stream().anyMatch(java.util.Objects::nonNull)) {
            return new JointProposal(parent, errors, List.of(), null);
        }
        List<EarlierEdit> lineage = earlierEdits(parent, checked.get(0).thresholds().earlierEditChecks());
        VerifiedBatch batch = VerifiedBatch.run(model, checked.stream().map(c -> c.edit().withEarlier(lineage)).toList(),
                checked.get(0).options(), checked.stream().map(EditRequests.Checked::thresholds).toList(),
                sentinels.of(model.name()));
        long millis = (System.nanoTime() - start) / 1_000_000;
        List<ProposeEditResponse> responses = new ArrayList<>();
        for (int i = 0; i < checked.size(); i++) {
            metrics.verified(model.name(), batch.reports().get(i));
            responses.add(EditMapper.proposal(checked.get(i), parent.ref(), batch.result(), batch.reports().get(i),
                    millis));
        }
        return new JointProposal(parent, errors, responses, batch);
    }

    /** The retention gate's sample of the edits on {@code parent}'s lineage, seeded by the parent checkpoint. */
    private List<EarlierEdit> earlierEdits(ModelViews.View parent, int count) {
        return EarlierEdits.sample(lineages.of(views.store(), parent.model(), parent.checkpoint()), count,
                parent.checkpoint().hashCode());
    }

    /** One line of a joint batch, checked against the batch's parent and its first line. */
    private EditRequests.Checked checkJointLine(EditRequest r, ModelViews.View parent, EditRequests.Checked first) {
        ModelViews.View view = views.resolve(r.getModel());
        if (!view.model().name().equals(parent.model().name()) || !view.checkpoint().equals(parent.checkpoint())) {
            throw GrpcErrors.invalid("model", "a joint batch edits one model at one checkpoint: this line names "
                    + view.model().name() + " at " + view.checkpoint() + ", the first " + parent.model().name() + " at "
                    + parent.checkpoint());
        }
        EditRequests.Checked c = EditRequests.check(r, view.model(), config);
        if (!(c.options().method() instanceof BatchEditMethod<?>)) {
            throw GrpcErrors.invalid("options.method", c.options().method().name() + " edits one fact at a time; a "
                    + "joint batch takes a method that batches (SUBJECT_NEURON, MEMIT, ALPHA_EDIT)");
        }
        if (first != null && !c.options().equals(first.options())) {
            throw GrpcErrors.invalid("options", "every edit of a joint batch takes the first edit's options");
        }
        return c;
    }

    /**
     * Commits a joint batch whose every fact passed as one checkpoint, the model's new head: FAILED_PRECONDITION naming
     * the facts that failed, CANCELLED or ABORTED as {@link #commit}; nothing is written unless every fact passed.
     */
    public CheckpointRecord commitJoint(List<EditRequest> requests, JointProposal p, String author,
            BooleanSupplier cancelled) {
        String model = p.parent().model().name();
        List<Integer> failed = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            if (!p.batch().reports().get(i).passed()) {
                failed.add(i);
                metrics.refused(model, p.batch().reports().get(i));
            }
        }
        if (!failed.isEmpty()) {
            throw Status.FAILED_PRECONDITION.withDescription("joint batch refused: " + failed.size() + " of "
                    + requests.size() + " facts failed verification (lines " + failed + "); nothing was committed")
                    .asRuntimeException();
        }
        if (cancelled.getAsBoolean()) {
            throw Status.CANCELLED.withDescription("cancelled before the commit; nothing was written")
                    .asRuntimeException();
        }
        List<EditRequest> asCommitted = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            asCommitted.add(asCommitted(requests.get(i), p.parent(), p.responses().get(i)));
        }
        CheckpointRecord record = GrpcErrors.store(() -> views.store().commit(model, p.parent().checkpoint(),
                p.batch().result().delta(), CommittedEdits.jointRequestJson(asCommitted),
                CommittedEdits.jointReportJson(p.responses().stream().map(ProposeEditResponse::getReport).toList()),
                author));
        metrics.committed(model);
        return record;
    }

    /**
     * The request as committed: it names the parent it was verified on and the target_true it replaced, which the
     * retention gate of later edits re-scores.
     */
    private static EditRequest asCommitted(EditRequest request, ModelViews.View parent, ProposeEditResponse response) {
        return request.toBuilder().setModel(parent.ref()).setTargetTrue(response.getTargetTrue()).build();
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
        CheckpointRecord record = GrpcErrors.store(() -> views.store().commit(model, p.parent().checkpoint(),
                p.result().delta(), json(asCommitted(request, p.parent(), p.response())), json(p.response().getReport()),
                author));
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
