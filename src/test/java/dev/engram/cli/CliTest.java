package dev.engram.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The engram CLI against the running test server (gRPC port 9001), in process: output, --json, and the exit codes a
 * pipeline branches on. Commits go to a model of the CLI's own (stories260K-cli).
 */
@QuarkusTest
class CliTest {
    private static final String ADDRESS = "--address=localhost:9001";
    private static final String MODEL = "--model=stories260K-cli";

    /** One run: exit code, standard output, standard error. */
    private record Run(int code, String out, String err) {
    }

    private static Run engram(String... args) {
        CommandLine cli = EngramCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.add(1, ADDRESS);
        int code = cli.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void locatePrintsTheTopNeuronsAndJsonIsTheResponse() throws Exception {
        Run text = engram("locate", "--prompt", "Once upon a", "--target", " time", "--top-k", "3");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("target ' time'"), text.out());
        String values = text.out().substring(text.out().indexOf("value neurons"), text.out().indexOf("query neurons"));
        assertEquals(3, values.lines().filter(l -> l.startsWith("  L")).count(), text.out());
        Run json = engram("locate", "--json", "--prompt", "Once upon a", "--target", " time", "--top-k", "3");
        assertEquals(0, json.code(), json.err());
        JsonNode r = new ObjectMapper().readTree(json.out());
        assertEquals("stories260K", r.get("model").get("name").asText());
        assertEquals(" time", r.get("targets").get(0).get("token").asText());
    }

    @Test
    void aRefusedProposalExitsThree() throws Exception {
        Path edit = Files.createTempFile("destructive", ".json");
        String line = Files.readAllLines(Path.of("editing", "stories260K-examples.jsonl")).get(0);
        // the destructive options of EditServiceGrpcTest: specificity fails
        Files.writeString(edit, line.substring(0, line.lastIndexOf('}')) + ", \"options\": {\"method\": "
                + "\"EDIT_METHOD_LEARNED\", \"neuron_budget\": 400, \"neuron_kinds\": [\"NEURON_KIND_FFN\", "
                + "\"NEURON_KIND_ATTENTION\"], \"learning_rate\": 2.0, \"steps\": 3, \"stop_probability\": 1.0}}");
        Run run = engram("propose", "--edit", edit.toString());
        assertEquals(EngramCli.REFUSED, run.code(), run.out() + run.err());
        assertTrue(run.out().startsWith("REFUSED [") && run.out().contains("SPECIFICITY"), run.out());
    }

    @Test
    void badInputUnknownModelsAndDeadServersHaveTheirOwnExitCodes() {
        Run empty = engram("propose", "--prompt", "Once upon a", "--target-new", " ");
        assertEquals(EngramCli.BAD_INPUT, empty.code(), empty.err());
        assertTrue(empty.err().contains("INVALID_ARGUMENT: target_new"), empty.err());
        assertEquals(EngramCli.NOT_FOUND, engram("checkpoints", "--model=no-such-model").code());
        CommandLine cli = EngramCli.commandLine();
        cli.setErr(new PrintWriter(new StringWriter()));
        assertEquals(EngramCli.UNAVAILABLE, cli.execute("checkpoints", "--address=localhost:1", "--timeout=5"));
        assertEquals(EngramCli.BAD_INPUT, engram("locate").code(), "a missing required option");
    }

    /** A batch commits its passing lines; the lineage lists them; compare sees the edit; rollback undoes it. */
    @Test
    void batchThenCheckpointsCompareAndRollback() {
        Run batch = engram("batch", MODEL, "editing/stories260K-examples.jsonl");
        Matcher summary = Pattern.compile("(\\d+) of 3 committed").matcher(batch.out());
        assertTrue(summary.find(), batch.out() + batch.err());
        int committed = Integer.parseInt(summary.group(1));
        assertTrue(committed >= 1, batch.out());
        assertEquals(committed == 3 ? EngramCli.OK : EngramCli.REFUSED, batch.code());
        assertTrue(batch.err().contains("[##############################] 3/3"), "a finished progress bar: " + batch.err());
        assertEquals(committed, Pattern.compile("^ *\\d+  COMMITTED ", Pattern.MULTILINE).matcher(batch.out()).results()
                .count(), batch.out());

        Run list = engram("checkpoints", MODEL);
        assertEquals(0, list.code(), list.err());
        assertEquals(committed, list.out().lines().filter(l -> l.matches("^[ *] [0-9a-f]{12} .*")).count(), list.out());
        assertEquals(1, list.out().lines().filter(l -> l.startsWith("* ")).count(), "one head: " + list.out());

        Run compare = engram("compare", MODEL, "--prompt", "Once upon a time, there was a little girl named");
        assertEquals(0, compare.code(), compare.err());
        assertTrue(compare.out().contains("A: ") && compare.out().contains("B: "), compare.out());

        Run conflict = engram("rollback", MODEL, "--to", "base", "--expected-head", "base");
        assertEquals(EngramCli.CONFLICT, conflict.code(), conflict.err());
        Run rollback = engram("rollback", MODEL, "--to", "base");
        assertEquals(0, rollback.code(), rollback.err());
        assertTrue(rollback.out().endsWith("-> base\n"), rollback.out());
    }
}
