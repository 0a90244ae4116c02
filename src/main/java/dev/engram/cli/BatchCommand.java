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
 * and committed only when it passes. A line that is not an edit is reported by its index and the batch goes on (the
 * server parses each line). A progress bar on standard error when it is a terminal, a summary table at the end; exit 0
 * when every line committed, 3 when any line was refused (or not committed, or aborted), else 2 when any line was
 * invalid.
 */
@Command(name = "batch", description = "Run a JSONL batch through BatchEdit; exit 0 if every line commits, 3 if any "
        + "is refused, else 2 if any is invalid (each reported by its index; the others still run).")
final class BatchCommand extends ClientCommand {
    @Parameters(paramLabel = "FILE", description = "edits, one JSON object a line (editing/*.jsonl)")
    Path file;
    @Option(names = "--model", description = "run every line on this model, whatever the line names")
    String model;
    @Option(names = "--progress", negatable = true, description = "draw a progress bar on standard error (default: "
            + "only when standard error is a terminal)")
    Boolean progress;
    @Option(names = "--stop-on-failure", description = "stop at the first refused or invalid line")
    boolean stopOnFailure;
    @Option(names = "--joint", description = "solve every line together as one delta (SUBJECT_NEURON, MEMIT or "
            + "ALPHA_EDIT), verify each fact, and commit one checkpoint only if every fact passes")
    boolean joint;

    @Override
    int run(ManagedChannel channel, PrintWriter out) throws Exception {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("batch file " + file + ": no such file");
        }
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        boolean bar = progress != null ? progress : System.console() != null;
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
                        } else if (bar) {
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
            dev.engram.grpc.v1.EditRequest.Builder e = dev.engram.grpc.v1.EditRequest.newBuilder();
            if (model != null && parses(line, e)) {
                item.setEdit(e.setModel(model(model, "")));
            } else {
                item.setLine(line); // the server parses it, and reports a bad line by its index
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
            if (bar) {
                err.println();
            }
            summary(out, results);
        }
        return exitCode(results, lines.size());
    }

    /** 0 when every line committed; 3 when any was refused, not committed or aborted; else 2 when any was invalid. */
    static int exitCode(List<BatchEditResponse> results, int lines) {
        if (results.size() == lines
                && results.stream().allMatch(r -> r.getOutcome() == BatchOutcome.BATCH_OUTCOME_COMMITTED)) {
            return EngramCli.OK;
        }
        boolean onlyInvalid = results.size() == lines && results.stream().allMatch(r ->
                r.getOutcome() == BatchOutcome.BATCH_OUTCOME_COMMITTED || r.getOutcome() == BatchOutcome.BATCH_OUTCOME_INVALID);
        return onlyInvalid ? EngramCli.BAD_INPUT : EngramCli.REFUSED;
    }

    private static boolean parses(String line, dev.engram.grpc.v1.EditRequest.Builder into) {
        try {
            com.google.protobuf.util.JsonFormat.parser().merge(line, into);
            return true;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            return false;
        }
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

    /**
     * One row a line: index, outcome, P(new), the scores, the checkpoint committed, the gates that refused it, and the
     * edit in full (prompt -> target_new), or for a line that was not edited, the server's message.
     */
    static void summary(PrintWriter out, List<BatchEditResponse> results) {
        out.println(" #  outcome        P(new)  PS    NB    SO    RS    checkpoint    refused by            edit");
        int committed = 0;
        for (BatchEditResponse r : results) {
            var p = r.getProposal();
            String edit = p.getPrompt().isEmpty() ? r.getMessage()
                    : LocateCommand.quoted(p.getPrompt()) + " -> " + LocateCommand.quoted(p.getTargetNew());
            String outcome = r.getOutcome().name().replace("BATCH_OUTCOME_", "");
            committed += r.getOutcome() == BatchOutcome.BATCH_OUTCOME_COMMITTED ? 1 : 0;
            String[] scores = ProposalText.scores(p.getReport());
            String gates = String.join(",", p.getReport().getFailedGatesList().stream()
                    .map(g -> g.name().replace("GATE_", "")).toList());
            out.printf(Locale.ROOT, "%2d  %-13s  %6s  %-4s  %-4s  %-4s  %-4s  %-12s  %-20s  %s%n", r.getIndex(),
                    outcome, p.getPrompt().isEmpty() ? "-" : String.format(Locale.ROOT, "%.3f",
                            p.getReport().getEfficacy().getNewProbability()), scores[0], scores[1], scores[2],
                    scores[3], r.hasCheckpoint() ? r.getCheckpoint().getId().substring(0, 12) : "-",
                    gates.isEmpty() ? "-" : gates, edit);
        }
        out.printf("%d of %d committed%n", committed, results.size());
    }
}
