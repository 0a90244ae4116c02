package dev.engram.service;

import dev.engram.grpc.v1.BatchEditRequest;
import dev.engram.grpc.v1.BatchEditResponse;
import dev.engram.grpc.v1.BatchOutcome;
import dev.engram.grpc.v1.BatchProgress;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.store.CheckpointRecord;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A joint BatchEdit: every line of the stream solved together as one delta, each fact verified on the jointly edited
 * model, and one checkpoint committed when every line is valid and every fact passes; otherwise nothing is written and
 * each line says why (its own error or failed gate, or NOT_COMMITTED when another line sank the batch).
 */
final class JointBatch {
    private final EditPipeline pipeline;
    private final String author;
    private final int maxLines;

    JointBatch(EditPipeline pipeline, String author, int maxLines) {
        this.pipeline = pipeline;
        this.author = author;
        this.maxLines = maxLines;
    }

    /** One response per item, in order. */
    List<BatchEditResponse> run(List<BatchEditRequest> items, BooleanSupplier cancelled) {
        long start = System.nanoTime();
        List<BatchEditResponse.Builder> out = new ArrayList<>();
        List<EditRequest> edits = new ArrayList<>();
        List<Integer> invalid = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            BatchEditResponse.Builder line = BatchEditResponse.newBuilder().setIndex(i);
            out.add(line);
            try {
                if (i >= maxLines) {
                    throw GrpcErrors.invalid("batch", "holds more than " + maxLines + " lines (ENGRAM_MAX_BATCH, engram.max-batch)");
                }
                edits.add(BatchRun.edit(items.get(i)));
            } catch (RuntimeException e) {
                edits.add(null);
                invalid.add(i);
                fail(line, GrpcErrors.toStatus(e));
            }
        }
        if (invalid.isEmpty()) {
            try {
                EditPipeline.JointProposal proposal = pipeline.proposeJoint(edits);
                for (int i = 0; i < items.size(); i++) {
                    if (proposal.valid()) {
                        out.get(i).setProposal(proposal.responses().get(i));
                    } else if (proposal.errors().get(i) != null) {
                        invalid.add(i);
                        fail(out.get(i), proposal.errors().get(i));
                    }
                }
                if (proposal.valid()) {
                    commit(out, edits, proposal, cancelled);
                }
            } catch (RuntimeException e) {
                StatusRuntimeException status = GrpcErrors.toStatus(e);
                out.forEach(line -> fail(line, status));
            }
        }
        String why = invalid.isEmpty() ? "" : "lines " + invalid + " are invalid; ";
        int committed = 0;
        for (BatchEditResponse.Builder line : out) {
            if (line.getOutcome() == BatchOutcome.BATCH_OUTCOME_UNSPECIFIED) {
                line.setOutcome(BatchOutcome.BATCH_OUTCOME_NOT_COMMITTED).setMessage(why
                        + "a joint batch commits all of its facts or none; nothing was committed");
            }
            committed += line.getOutcome() == BatchOutcome.BATCH_OUTCOME_COMMITTED ? 1 : 0;
        }
        BatchProgress progress = BatchProgress.newBuilder().setReceived(items.size()).setCommitted(committed)
                .setFailed(items.size() - committed).setElapsedMs((System.nanoTime() - start) / 1_000_000).build();
        return out.stream().map(line -> line.setProgress(progress).build()).toList();
    }

    private void commit(List<BatchEditResponse.Builder> out, List<EditRequest> edits,
            EditPipeline.JointProposal proposal, BooleanSupplier cancelled) {
        List<Integer> failed = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            if (!proposal.batch().reports().get(i).passed()) {
                failed.add(i);
            }
        }
        try {
            CheckpointRecord record = pipeline.commitJoint(edits, proposal, author, cancelled);
            out.forEach(line -> line.setOutcome(BatchOutcome.BATCH_OUTCOME_COMMITTED)
                    .setCheckpoint(CheckpointMapper.checkpoint(record, record.id(), false)));
        } catch (RuntimeException e) {
            StatusRuntimeException status = GrpcErrors.toStatus(e);
            if (failed.isEmpty()) {
                out.forEach(line -> fail(line, status)); // the commit itself failed: aborted, cancelled, the store
            } else {
                failed.forEach(i -> fail(out.get(i), status));
            }
        }
    }

    private static void fail(BatchEditResponse.Builder line, StatusRuntimeException status) {
        line.setOutcome(BatchRun.outcome(status.getStatus().getCode()))
                .setMessage(status.getStatus().getCode() + ": " + status.getStatus().getDescription());
    }
}
