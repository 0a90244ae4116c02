package dev.engram.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The evaluations of EVALUATION.md, run here (not on the server): {@code faithfulness <model> [--out dir]},
 * {@code edits <model> <records.jsonl> [--methods ..] [--limit N] [--out dir]}, {@code records <model> <out.jsonl>}.
 */
@Command(name = "eval", description = "Run an evaluation locally: faithfulness, edits or records (see EVALUATION.md).")
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "faithfulness, edits or records")
    String which;
    @Parameters(index = "1..*", description = "the evaluation's own arguments")
    List<String> arguments = List.of();

    @Override
    public Integer call() throws Exception {
        String[] args = arguments.toArray(String[]::new);
        switch (which) {
            case "faithfulness" -> dev.engram.evaluation.FaithfulnessEvaluation.main(args);
            case "edits" -> dev.engram.evaluation.EditBenchmark.main(args);
            case "records" -> dev.engram.evaluation.EditRecordsWriter.main(args);
            default -> throw new IllegalArgumentException("eval: unknown evaluation '" + which
                    + "' (faithfulness, edits, records)");
        }
        return EngramCli.OK;
    }
}
