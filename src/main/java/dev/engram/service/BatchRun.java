package dev.engram.service;

import dev.engram.grpc.v1.BatchEditRequest;
import dev.engram.grpc.v1.BatchEditResponse;
import dev.engram.grpc.v1.BatchOutcome;
import dev.engram.grpc.v1.BatchProgress;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.store.CheckpointRecord;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.BooleanSupplier;

/**
 * One BatchEdit stream: its edits in order, each proposed on the model's head as the previous edit left it and
 * committed only when it passes. Keeps the counts the progress messages report; not thread-safe (a stream's items
 * arrive one at a time).
 */
final class BatchRun {
    private final EditPipeline pipeline;
    private final String author;
    private final long start = System.nanoTime();
    private boolean stopOnFailure;
    private boolean stopped;
    private int received;
    private int committed;
    private int failed;

    private final int maxLines;

    BatchRun(EditPipeline pipeline, String author, int maxLines) {
        this.pipeline = pipeline;
        this.author = author;
        this.maxLines = maxLines;
    }

    boolean stopped() {
        return stopped;
    }

    BatchEditResponse process(BatchEditRequest request, BooleanSupplier cancelled) {
        if (received == 0) {
            stopOnFailure = request.getStopOnFailure();
        }
        BatchEditResponse.Builder out = BatchEditResponse.newBuilder().setIndex(received++);
        try {
            if (received > maxLines) {
                stopOnFailure = true; // the batch ends here: nothing past the limit is read
                throw GrpcErrors.invalid("batch", "holds more than " + maxLines + " lines (ENGRAM_MAX_BATCH, engram.max-batch)");
            }
            EditRequest edit = edit(request);
            EditPipeline.Proposal proposal = pipeline.propose(edit);
            out.setProposal(proposal.response());
            CheckpointRecord record = pipeline.commit(edit, proposal, author, cancelled);
            out.setOutcome(BatchOutcome.BATCH_OUTCOME_COMMITTED)
                    .setCheckpoint(CheckpointMapper.checkpoint(record, record.id(), false));
            committed++;
        } catch (RuntimeException e) {
            StatusRuntimeException status = GrpcErrors.toStatus(e);
            out.setOutcome(outcome(status.getStatus().getCode())).setMessage(
                    status.getStatus().getCode() + ": " + status.getStatus().getDescription());
            GrpcErrors.badRequest(status).ifPresent(out::setBadRequest);
            failed++;
            stopped = stopOnFailure;
        }
        return out.setStopped(stopped).setProgress(BatchProgress.newBuilder().setReceived(received)
                .setCommitted(committed).setFailed(failed).setElapsedMs((System.nanoTime() - start) / 1_000_000))
                .build();
    }

    /** The item's edit request: given, or parsed from its JSONL line. */
    static EditRequest edit(BatchEditRequest request) {
        return switch (request.getItemCase()) {
            case EDIT -> request.getEdit();
            case LINE -> EditRequests.parseJson(request.getLine());
            default -> throw GrpcErrors.invalid("item", "give an edit or a JSONL line");
        };
    }

    static BatchOutcome outcome(Status.Code code) {
        return switch (code) {
            case FAILED_PRECONDITION -> BatchOutcome.BATCH_OUTCOME_GATE_FAILED;
            case INVALID_ARGUMENT, NOT_FOUND -> BatchOutcome.BATCH_OUTCOME_INVALID;
            case ABORTED -> BatchOutcome.BATCH_OUTCOME_ABORTED;
            default -> BatchOutcome.BATCH_OUTCOME_ERROR;
        };
    }
}
