package dev.engram.cli;

import dev.engram.grpc.v1.BatchEditRequest;
import dev.engram.grpc.v1.BatchEditResponse;
import dev.engram.grpc.v1.BatchOutcome;
import dev.engram.grpc.v1.EditServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * BatchEdit: streams every line of a JSONL file (editing/*.jsonl), each verified on the head the previous lines left
 * and committed only when it passes. A progress bar on standard error, a summary table at the end; exit 3 when any
 * line was refused or invalid.
 */
@Command(name = "batch", description = "Run a JSONL batch through BatchEdit; exit 3 if any line is refused.")
final class BatchCommand extends ClientCommand {
    @Parameters(paramLabel = "FILE", description = "edits, one JSON object a line (editing/*.jsonl)")
    Path file;
    @Option(names = "--model", description = "run every line on this model, whatever the line names")
    String model;
    @Option(names = "--stop-on-failure", description = "stop at the first refused or invalid line")
    boolean stopOnFailure;
    @Option(names = "--joint", description = "solve every line together as one delta (SUBJECT_NEURON, MEMIT or "
            + "ALPHA_EDIT), verify each fact, and commit one checkpoint only if every fact passes")
    boolean joint;

    @Override
    int run(ManagedChannel channel, PrintWriter out) throws Exception {
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        List<BatchEditResponse> results = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        PrintWriter err = spec.commandLine().getErr();
        StreamObserver<BatchEditRequest> requests = server.prepare(EditServiceGrpc.newStub(channel)).batchEdit(
                new StreamObserver<>() {
                    @Override
                    public void onNext(BatchEditResponse r) {
                        results.add(r);
                        if (server.json) {
                            ServerOptions.printJson(out, r, true);
                        } else {
                            progress(err, r, lines.size());
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        for (String line : lines) {
            BatchEditRequest.Builder item = BatchEditRequest.newBuilder().setStopOnFailure(stopOnFailure)
                    .setJoint(joint);
            if (model == null) {
                item.setLine(line);
            } else {
                dev.engram.grpc.v1.EditRequest.Builder e = dev.engram.grpc.v1.EditRequest.newBuilder();
                com.google.protobuf.util.JsonFormat.parser().merge(line, e);
                item.setEdit(e.setModel(model(model, "")));
            }
            requests.onNext(item.build());
        }
        requests.onCompleted();
        try {
            done.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw (Exception) e.getCause();
        }
        if (!server.json) {
            err.println();
            summary(out, results);
        }
        boolean allCommitted = results.size() == lines.size()
                && results.stream().allMatch(r -> r.getOutcome() == BatchOutcome.BATCH_OUTCOME_COMMITTED);
        return allCommitted ? EngramCli.OK : EngramCli.REFUSED;
    }

    /** [#####.....] 5/10 committed 4 refused 1, rewritten in place. */
    private static void progress(PrintWriter err, BatchEditResponse r, int total) {
        int width = 30;
        int done = r.getProgress().getCommitted() + r.getProgress().getFailed();
        int filled = total == 0 ? width : Math.min(width, width * done / total);
        err.printf(Locale.ROOT, "\r[%s%s] %d/%d  committed %d  refused %d  %.1f s", "#".repeat(filled),
                ".".repeat(width - filled), done, total, r.getProgress().getCommitted(), r.getProgress().getFailed(),
                r.getProgress().getElapsedMs() / 1000.0);
        err.flush();
    }

    static void summary(PrintWriter out, List<BatchEditResponse> results) {
        out.println(" #  outcome      edit                                              P(new)  PS    NB    SO    RS    "
                + "checkpoint");
        int committed = 0;
        for (BatchEditResponse r : results) {
            var p = r.getProposal();
            String edit = p.getPrompt().isEmpty() ? r.getMessage()
                    : p.getPrompt() + " ->" + p.getTargetNew();
            String outcome = r.getOutcome().name().replace("BATCH_OUTCOME_", "");
            committed += r.getOutcome() == BatchOutcome.BATCH_OUTCOME_COMMITTED ? 1 : 0;
            String[] scores = ProposalText.scores(p.getReport());
            out.printf(Locale.ROOT, "%2d  %-11s  %-48s  %6.3f  %-4s  %-4s  %-4s  %-4s  %s%n", r.getIndex(), outcome,
                    edit.length() > 48 ? edit.substring(0, 47) + "…" : edit,
                    p.getReport().getEfficacy().getNewProbability(), scores[0], scores[1], scores[2], scores[3],
                    r.hasCheckpoint() ? r.getCheckpoint().getId().substring(0, 12) : "-");
        }
        out.printf("%d of %d committed%n", committed, results.size());
    }
}
