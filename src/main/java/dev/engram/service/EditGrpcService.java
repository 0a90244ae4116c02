package dev.engram.service;

import dev.engram.runtime.Cancellation;
import dev.engram.service.security.BearerAuthInterceptor;
import io.grpc.Context;
import dev.engram.grpc.v1.ApplyEditRequest;
import dev.engram.grpc.v1.ApplyEditResponse;
import dev.engram.grpc.v1.BatchEditRequest;
import dev.engram.grpc.v1.BatchEditResponse;
import dev.engram.grpc.v1.CompareRequest;
import dev.engram.grpc.v1.CompareResponse;
import dev.engram.grpc.v1.DiffRequest;
import dev.engram.grpc.v1.DiffResponse;
import dev.engram.grpc.v1.MutinyEditServiceGrpc;
import dev.engram.grpc.v1.ExportCheckpointRequest;
import dev.engram.grpc.v1.ExportCheckpointResponse;
import dev.engram.grpc.v1.GetCheckpointRequest;
import dev.engram.grpc.v1.GetCheckpointResponse;
import dev.engram.grpc.v1.ListCheckpointsRequest;
import dev.engram.grpc.v1.ListCheckpointsResponse;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import dev.engram.grpc.v1.RollbackRequest;
import dev.engram.grpc.v1.RollbackResponse;
import dev.engram.store.CheckpointRecord;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.subscription.Cancellable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** EditService: dry runs, verified commits, batches, and the checkpoint store's reads, rollback and export. */
@GrpcService
public class EditGrpcService extends MutinyEditServiceGrpc.EditServiceImplBase {
    private final EditPipeline pipeline;
    private final CheckpointQueries queries;
    private final CheckpointExporter exporter;
    private final AdmissionControl admission;
    private final int maxBatch;

    public EditGrpcService(EditPipeline pipeline, CheckpointQueries queries, CheckpointExporter exporter,
            AdmissionControl admission, EngramConfig config) {
        this.maxBatch = config.maxBatch();
        this.pipeline = pipeline;
        this.admission = admission;
        this.queries = queries;
        this.exporter = exporter;
    }

    private static <T> Uni<T> blocking(Supplier<T> body) {
        return Uni.createFrom().item(() -> GrpcErrors.call(body));
    }

    /** Requests that do not parse get INVALID_ARGUMENT (see {@link RequestDecoding}). */
    @Override
    public io.grpc.ServerServiceDefinition bindService() {
        return RequestDecoding.guarded(super.bindService());
    }

    @Override
    @Blocking
    public Uni<ProposeEditResponse> proposeEdit(ProposeEditRequest request) {
        return blocking(() -> pipeline.propose(request.getEdit()).response());
    }

    @Override
    @Blocking
    public Uni<ApplyEditResponse> applyEdit(ApplyEditRequest request) {
        return blocking(() -> {
            EditPipeline.Proposal proposal = pipeline.propose(request.getEdit());
            CheckpointRecord record = pipeline.commit(request.getEdit(), proposal, BearerAuthInterceptor.caller(), () -> false);
            return ApplyEditResponse.newBuilder().setCheckpoint(CheckpointMapper.checkpoint(record, record.id(), false))
                    .setProposal(proposal.response()).build();
        });
    }

    @Override
    public Multi<BatchEditResponse> batchEdit(Multi<BatchEditRequest> requests) {
        Context context = Context.current();
        String author = BearerAuthInterceptor.caller();
        return Multi.createFrom().emitter(emitter -> {
            BatchRun run = new BatchRun(pipeline, author, maxBatch);
            // a joint batch (the first message says so) is read whole, then solved, verified and committed at once
            List<BatchEditRequest> joint = new ArrayList<>();
            AtomicReference<Cancellable> upstream = new AtomicReference<>();
            emitter.onTermination(() -> {
                Cancellable c = upstream.get();
                if (c != null) {
                    c.cancel();
                }
            });
            upstream.set(requests.emitOn(Infrastructure.getDefaultWorkerPool()).subscribe().with(
                    request -> {
                        if (run.stopped() || emitter.isCancelled()) {
                            return;
                        }
                        if (!joint.isEmpty() || request.getJoint()) {
                            joint.add(request);
                            return;
                        }
                        // the call's context (its token holder, for the heavy lane's per-caller quota) on this thread
                        BatchEditResponse response;
                        Context previous = context.attach();
                        try {
                            response = Cancellation.run(() -> context.isCancelled() || emitter.isCancelled(),
                                    () -> run.process(request, emitter::isCancelled));
                        } finally {
                            context.detach(previous);
                        }
                        emitter.emit(response);
                        if (response.getStopped()) {
                            emitter.complete();
                        }
                    },
                    failure -> emitter.fail(GrpcErrors.toStatus(failure)),
                    () -> {
                        if (!joint.isEmpty() && !emitter.isCancelled()) {
                            context.run(() -> Cancellation.run(() -> context.isCancelled() || emitter.isCancelled(),
                                    () -> new JointBatch(pipeline, author, maxBatch)
                                            .run(joint, emitter::isCancelled)).forEach(emitter::emit));
                        }
                        if (!run.stopped()) {
                            emitter.complete();
                        }
                    }));
        });
    }

    @Override
    @Blocking
    public Uni<ListCheckpointsResponse> listCheckpoints(ListCheckpointsRequest request) {
        return blocking(() -> queries.list(request));
    }

    @Override
    @Blocking
    public Uni<GetCheckpointResponse> getCheckpoint(GetCheckpointRequest request) {
        return blocking(() -> queries.get(request));
    }

    @Override
    @Blocking
    public Uni<RollbackResponse> rollback(RollbackRequest request) {
        return blocking(() -> queries.rollback(request, BearerAuthInterceptor.caller()));
    }

    @Override
    @Blocking
    public Uni<DiffResponse> diff(DiffRequest request) {
        return blocking(() -> queries.diff(request));
    }

    @Override
    @Blocking
    public Uni<CompareResponse> compare(CompareRequest request) {
        return blocking(() -> admission.run(request.getModel(), AdmissionControl.Lane.HEAVY,
                () -> queries.compare(request)));
    }

    @Override
    @Blocking
    public Uni<ExportCheckpointResponse> exportCheckpoint(ExportCheckpointRequest request) {
        return blocking(() -> admission.run(request.getModel().getName(), AdmissionControl.Lane.HEAVY,
                () -> exporter.export(request)));
    }
}
