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
        boolean store = args[0].equals("store");
        if (!store || !args[1].equals("restore")) { // the offline restore talks to no server
            all.add(store ? 2 : 1, ADDRESS);
        }
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

    /** The first example edit with the destructive options of EditServiceGrpcTest: specificity fails. */
    private static String destructiveLine() throws Exception {
        String line = Files.readAllLines(Path.of("editing", "stories260K-examples.jsonl")).get(0);
        return line.substring(0, line.lastIndexOf('}')) + ", \"options\": {\"method\": "
                + "\"EDIT_METHOD_LEARNED\", \"neuron_budget\": 400, \"neuron_kinds\": [\"NEURON_KIND_FFN\", "
                + "\"NEURON_KIND_ATTENTION\"], \"learning_rate\": 2.0, \"steps\": 3, \"stop_probability\": 1.0}}";
    }

    @Test
    void aRefusedProposalExitsThree() throws Exception {
        Path edit = Files.createTempFile("destructive", ".json");
        Files.writeString(edit, destructiveLine());
        Run run = engram("propose", "--edit", edit.toString());
        assertEquals(EngramCli.REFUSED, run.code(), run.out() + run.err());
        assertTrue(run.out().startsWith("REFUSED [") && run.out().contains("SPECIFICITY"), run.out());
    }

    /** A refused apply exits 3 and still prints the report the refusal carries; with --json, every field of it. */
    @Test
    void aRefusedApplyPrintsItsReport() throws Exception {
        Path edit = Files.createTempFile("destructive", ".json");
        Files.writeString(edit, destructiveLine());
        Run text = engram("apply", MODEL, "--edit", edit.toString());
        assertEquals(EngramCli.REFUSED, text.code(), text.out() + text.err());
        assertTrue(text.out().startsWith("REFUSED [") && text.out().contains("SPECIFICITY")
                && text.out().contains("P(new)"), text.out());
        Run json = engram("apply", MODEL, "--json", "--edit", edit.toString());
        assertEquals(EngramCli.REFUSED, json.code(), json.out() + json.err());
        JsonNode r = new ObjectMapper().readTree(json.out());
        assertEquals(9, r.get("refused").get("code").asInt(), "FAILED_PRECONDITION");
        assertEquals(false, r.get("report").get("passed").asBoolean(true), "false is printed, not left out: " + r);
        assertTrue(r.get("report").get("failed_gates").toString().contains("GATE_SPECIFICITY"), r.toString());
    }

    /**
     * A batch line that is not JSON is reported by its index and the batch goes on; the table says which gate refused
     * a line and prints its edit whole; no progress bar when standard error is not a terminal; --json prints fields at
     * their default value (index 0); exit 3 with a refusal, 2 when the lines are only invalid, 2 for a missing file.
     */
    @Test
    void aBatchReportsBadLinesByIndexAndGoesOn(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path mixed = dir.resolve("mixed.jsonl");
        Files.writeString(mixed, "not json\n" + destructiveLine() + "\n");
        Run batch = engram("batch", MODEL, mixed.toString());
        assertEquals(EngramCli.REFUSED, batch.code(), batch.out() + batch.err());
        assertTrue(Pattern.compile("^ 0  INVALID ", Pattern.MULTILINE).matcher(batch.out()).find(), batch.out());
        String refused = batch.out().lines().filter(l -> l.startsWith(" 1  GATE_FAILED")).findFirst().orElse("");
        assertTrue(refused.contains("SPECIFICITY"), "the gate that refused: " + batch.out());
        assertTrue(refused.endsWith("'Once upon a time, there was a little girl named' -> ' Sue'"),
                "the edit whole: " + refused);
        assertEquals("", batch.err(), "no progress bar when standard error is not a terminal");

        Run json = engram("batch", MODEL, "--json", mixed.toString());
        JsonNode first = new ObjectMapper().readTree(json.out().lines().findFirst().orElseThrow());
        assertTrue(first.has("index") && first.get("index").asInt(-1) == 0, "index 0 printed: " + first);
        assertEquals("line", first.get("bad_request").get("field_violations").get(0).get("field").asText(),
                "the invalid line's google.rpc.BadRequest: " + first);

        Path invalid = dir.resolve("invalid.jsonl");
        Files.writeString(invalid, "not json\n{\"prompt\": \"\"}\n");
        assertEquals(EngramCli.BAD_INPUT, engram("batch", MODEL, invalid.toString()).code());
        Run missing = engram("batch", MODEL, dir.resolve("absent.jsonl").toString());
        assertEquals(EngramCli.BAD_INPUT, missing.code());
        assertTrue(missing.err().contains("absent.jsonl: no such file"), missing.err());
    }

    /** `engram <command> --help` explains every option of every subcommand, nested ones (store verify…) included. */
    @Test
    void everyOptionHasHelpText() {
        List<CommandLine> commands = new ArrayList<>(EngramCli.commandLine().getSubcommands().values());
        for (int i = 0; i < commands.size(); i++) {
            CommandLine sub = commands.get(i);
            commands.addAll(sub.getSubcommands().values());
            for (var option : sub.getCommandSpec().options()) {
                assertTrue(option.description().length > 0 && !String.join("", option.description()).isBlank(),
                        sub.getCommandSpec().qualifiedName() + " " + option.longestName() + " has no help text");
            }
        }
        assertTrue(commands.stream().anyMatch(c -> c.getCommandSpec().qualifiedName().equals("engram store restore")));
    }

    /** Neighbours and the method come as flags; a bad one is bad input, named. */
    @Test
    void neighboursAndTheMethodAreFlags() {
        Run bad = engram("propose", MODEL, "--prompt", "Once upon a", "--target-new", " dog", "--method", "nope");
        assertEquals(EngramCli.BAD_INPUT, bad.code());
        assertTrue(bad.err().contains("--method 'nope'"), bad.err());
        Run badNeighbour = engram("propose", MODEL, "--prompt", "Once upon a", "--target-new", " dog",
                "--neighbour", "no arrow");
        assertEquals(EngramCli.BAD_INPUT, badNeighbour.code());
        Run json = engram("propose", MODEL, "--json", "--prompt", "Once upon a", "--target-new", " dog",
                "--method", "closed_form", "--neighbour", "The dog wagged its=> tail");
        assertTrue(json.code() == EngramCli.OK || json.code() == EngramCli.REFUSED, json.err());
        assertTrue(json.out().contains("The dog wagged its"), "the neighbour was verified: " + json.out());
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
        Run batch = engram("batch", MODEL, "--progress", "editing/stories260K-examples.jsonl");
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

    /** store verify, store backup (through the server) and store restore (offline) with their exit codes. */
    @Test
    void storeVerifyBackupAndRestore(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String line = Files.readAllLines(Path.of("editing", "stories260K-examples.jsonl")).get(0);
        Path edit = dir.resolve("edit.json");
        Files.writeString(edit, line.substring(0, line.lastIndexOf('}')) + ", \"options\": {\"method\": "
                + "\"EDIT_METHOD_CLOSED_FORM\"}, \"thresholds\": {\"max_sentinel_flips\": 3}}");
        Run apply = engram("apply", MODEL, "--json", "--edit", edit.toString());
        assertEquals(0, apply.code(), apply.out() + apply.err());
        String id = new ObjectMapper().readTree(apply.out()).get("checkpoint").get("id").asText();

        Run verify = engram("store", "verify");
        assertEquals(0, verify.code(), verify.out() + verify.err());
        assertTrue(verify.out().startsWith("clean: "), verify.out());

        org.eclipse.microprofile.config.Config config = org.eclipse.microprofile.config.ConfigProvider.getConfig();
        Path storeDir = Path.of(config.getValue("engram.store.dir", String.class));
        Path backups = Path.of(config.getValue("engram.store.backup-dir", String.class));
        String name = "cli-" + java.util.UUID.randomUUID();
        Run backup = engram("store", "backup", "--name", name);
        assertEquals(0, backup.code(), backup.out() + backup.err());
        assertTrue(backup.out().startsWith("backup " + name + ": "), backup.out());
        Run again = engram("store", "backup", "--name", name);
        assertEquals(EngramCli.FAILED, again.code());
        assertTrue(again.err().contains("ALREADY_EXISTS: name"), again.err());

        Path restoredDir = dir.resolve("restored");
        Run restore = engram("store", "restore", "--from", backups.resolve(name).toString(), "--store",
                restoredDir.toString());
        assertEquals(0, restore.code(), restore.out() + restore.err());
        assertTrue(restore.out().contains("\nclean: "), restore.out());
        try (dev.engram.store.CheckpointStore restored = new dev.engram.store.CheckpointStore(restoredDir,
                dev.engram.store.LedgerDatabase.open(dev.engram.store.LedgerUrls.h2(restoredDir), "", "", 2))) {
            assertEquals(id, restored.head("stories260K-cli"), "the restored store serves the same head");
        }
        Run twice = engram("store", "restore", "--from", backups.resolve(name).toString(), "--store",
                restoredDir.toString());
        assertEquals(EngramCli.FAILED, twice.code());
        assertTrue(twice.err().contains("not empty"), twice.err());

        // one flipped bit in the live store's copy of the checkpoint: verify exits 8 naming it; put back, clean again
        Path vectors = storeDir.resolve("stories260K-cli").resolve(id).resolve("delta.safetensors");
        byte[] good = Files.readAllBytes(vectors);
        byte[] bad = good.clone();
        bad[bad.length - 1] ^= 1;
        try {
            Files.write(vectors, bad);
            Run damaged = engram("store", "verify");
            assertEquals(EngramCli.DAMAGED, damaged.code(), damaged.out() + damaged.err());
            assertTrue(damaged.out().contains("WRONG_CONTENT stories260K-cli/" + id), damaged.out());
            Run refused = engram("store", "backup");
            assertEquals(EngramCli.DAMAGED, refused.code(), refused.out() + refused.err());
            assertTrue(refused.err().contains("DATA_LOSS: store: "), refused.err());
        } finally {
            Files.write(vectors, good);
        }
        assertEquals(0, engram("store", "verify").code());
        assertEquals(0, engram("rollback", MODEL, "--to", "base").code());
    }
}
