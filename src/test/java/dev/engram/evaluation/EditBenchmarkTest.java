package dev.engram.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Editor;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import dev.engram.support.ReferenceMath;
import dev.engram.support.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark's metrics against their definitions computed one forward pass per token, and a small run of every
 * protocol on the real stories260K with records in the benchmark's format.
 */
class EditBenchmarkTest {
    private static final Model MODEL = TestModels.sharedStories260K();

    private static List<EditRecord> records() throws Exception {
        return EditRecord.load(MODEL, Path.of("editing/benchmark/stories260K-ci.jsonl"));
    }

    @Test
    void harmonicMeanIsRomesScoreAndAMissingMetricIsNotASuccess() {
        assertEquals(0.75, CounterFactScores.harmonic(new CounterFactScores.Scores(1, 0.5, 1, 1, 0)), 1e-12);
        assertEquals(0, CounterFactScores.harmonic(new CounterFactScores.Scores(1, 0, 1, 1, 0)));
        assertTrue(Double.isNaN(CounterFactScores.harmonic(new CounterFactScores.Scores(1, 1, Double.NaN, 1, 0))));
        CounterFactScores.Scores mean = CounterFactScores.mean(List.of(new CounterFactScores.Scores(1, 1, Double.NaN,
                0.5, 0.2), new CounterFactScores.Scores(0, 1, 0.5, Double.NaN, 0.4)));
        assertEquals(0.5, mean.ns(), 1e-12, "NS over the records that have neighbourhood prompts only");
        assertEquals(0.5, mean.rs(), 1e-12);
    }

    /** ES, PS, NS, RS and EM on an edited model equal the definitions computed one forward pass per token. */
    @Test
    void scoresMatchTheDefinitionsOnAnEditedModel() throws Exception {
        List<EditRecord> records = records();
        Editor editor = new Editor(MODEL);
        Model edited = editor.apply(editor.edit(records.get(0).edit(), EditOptions.defaults(EditMethods.CLOSED_FORM,
                MODEL.config().nLayers())));
        List<CounterFactScores.Scores> fast = CounterFactScores.of(edited, records);
        for (int r = 0; r < records.size(); r++) {
            EditRecord rec = records.get(r);
            EditCase e = rec.edit();
            double pNew = p(edited, e.prompt(), e.targetNew());
            double pTrue = p(edited, e.prompt(), e.targetTrue());
            double ps = e.paraphrases().stream().filter(q -> p(edited, q, e.targetNew()) > p(edited, q, e.targetTrue()))
                    .count() / (double) e.paraphrases().size();
            // CounterFact's NS: the neighbourhood prompt still prefers target_TRUE over target_new
            double ns = rec.neighbourhood().stream().filter(q -> p(edited, q, e.targetTrue())
                    > p(edited, q, e.targetNew())).count() / (double) rec.neighbourhood().size();
            double rs = rec.relationNeighbours().stream().filter(n -> p(edited, n.prompt(), n.expected())
                    > p(edited, n.prompt(), e.targetNew())).count() / (double) rec.relationNeighbours().size();
            assertEquals(pNew > pTrue ? 1.0 : 0.0, fast.get(r).es(), "ES of record " + r);
            assertEquals(ps, fast.get(r).ps(), 1e-12, "PS of record " + r);
            assertEquals(ns, fast.get(r).ns(), 1e-12, "NS of record " + r);
            assertEquals(rs, fast.get(r).rs(), 1e-12, "RS of record " + r);
            assertEquals(pNew - pTrue, fast.get(r).em(), 1e-4, "EM of record " + r);
        }
        assertEquals(1.0, fast.get(0).es(), "the edited record flips");
    }

    /** The benchmark format gives the gate no neighbourhood prompt: they are held out for scoring. */
    @Test
    void neighbourhoodPromptsNeverReachTheRequest() throws Exception {
        for (EditRecord r : records()) {
            assertTrue(r.edit().neighbours().isEmpty());
            assertEquals(5, r.neighbourhood().size());
            for (int[] q : r.neighbourhood()) {
                assertTrue(r.edit().verificationPrompts().stream().noneMatch(v -> java.util.Arrays.equals(v, q)));
                assertTrue(r.edit().contrasts().stream().noneMatch(v -> java.util.Arrays.equals(v, q)));
            }
        }
    }

    /**
     * A long run continues where it stopped: every method on each record in turn, each single edit journaled as it
     * finishes; a later run reads them back (the same edits, timings included, so nothing was measured again), reports
     * only the records every method finished, and refuses a journal measured at another commit.
     */
    @Test
    void aJournaledRunContinuesWhereItStoppedAndKeepsToOneCommit(@TempDir Path dir) throws Exception {
        List<EditRecord> records = records().subList(0, 2);
        EditBenchmark bench = new EditBenchmark(MODEL, records, List.of("Once upon a"), 4);
        List<dev.engram.editing.EditMethod<?>> methods = List.of(EditMethods.CLOSED_FORM, EditMethods.ROME);
        Path file = dir.resolve("journal.jsonl");
        var first = bench.singlesByRecord(methods, SingleEditJournal.open(file, "c1"), true);
        assertEquals(2, first.get("ROME").size());
        List<String> lines = Files.readAllLines(file);
        assertEquals(4, lines.size());
        assertTrue(lines.get(0).contains("\"CLOSED_FORM\"") && lines.get(1).contains("\"ROME\""),
                "record by record, every method on each: " + lines);

        var again = bench.singlesByRecord(methods, SingleEditJournal.open(file, "c1"), true);
        assertEquals(first, again, "read back, not measured again");

        // stopped after the second record's first method, killed while it wrote the next line
        Files.writeString(file, lines.get(0) + "\n" + lines.get(1) + "\n" + lines.get(2) + "\n"
                + lines.get(3).substring(0, 40));
        var part = bench.singlesByRecord(methods, SingleEditJournal.open(file, "c1"), false);
        assertEquals(List.of(first.get("ROME").get(0)), part.get("ROME"), "only records every method finished");
        assertEquals(List.of(first.get("CLOSED_FORM").get(0)), part.get("CLOSED_FORM"));
        var resumed = bench.singlesByRecord(methods, SingleEditJournal.open(file, "c1"), true);
        assertEquals(first.get("CLOSED_FORM"), resumed.get("CLOSED_FORM"), "the journaled edits are kept");
        assertEquals(first.get("ROME").get(0), resumed.get("ROME").get(0));
        assertEquals(first.get("ROME").get(1).scores(), resumed.get("ROME").get(1).scores(),
                "the edit cut short is measured again");
        assertEquals(4, Files.readAllLines(file).size(), "the cut line gone, the new one in its place");
        assertEquals(resumed, bench.singlesByRecord(methods, SingleEditJournal.open(file, "c1"), false));

        IllegalStateException other = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> SingleEditJournal.open(file, "c2"));
        assertTrue(other.getMessage().contains("measured at c1"), other.getMessage());
    }

    /**
     * A lineage continued across processes: stopped after two attempts and continued to three, it gives the curve an
     * uninterrupted run gives (its accepted edits re-scored on the lineage read back from disk), and so does a run
     * killed while it wrote its last line; journaling changes nothing; only the last lineage's delta stays on disk;
     * another commit's or another method's journal is refused.
     */
    @Test
    void aJournaledLineageContinuesWhereItStopped(@TempDir Path dir) throws Exception {
        List<EditRecord> records = records();
        EditBenchmark bench = new EditBenchmark(MODEL, records, List.of("Once upon a"), 4);
        String sn = EditMethods.SUBJECT_NEURON.name();
        List<EditBenchmark.SequentialPoint> plain = bench.run(EditMethods.SUBJECT_NEURON, List.of(), 0, 3, 2)
                .sequential();
        List<EditBenchmark.SequentialPoint> whole = bench.run(EditMethods.SUBJECT_NEURON, List.of(), 0, 3, 2,
                SequentialJournal.open(dir.resolve("whole"), "c1", sn)).sequential();
        assertEquals(plain, whole, "journaling changes nothing");
        EditBenchmark.SequentialPoint end = whole.get(whole.size() - 1);
        assertEquals(1.0, end.acceptedScores().es(), "the lineage says every accepted target_new: " + end);
        assertEquals(0.0, end.uneditedUntouched().es(), "the reference is the unedited model: " + end);

        Path part = dir.resolve("part");
        List<EditBenchmark.SequentialPoint> first = bench.run(EditMethods.SUBJECT_NEURON, List.of(), 0, 2, 2,
                SequentialJournal.open(part, "c1", sn)).sequential();
        assertTrue(first.get(0).accepted() >= 1, "an accepted edit before the stop, so a lineage is read back: "
                + first);
        SequentialJournal stopped = SequentialJournal.open(part, "c1", sn);
        assertEquals(2, stopped.attempts());
        assertEquals(whole, bench.run(EditMethods.SUBJECT_NEURON, List.of(), 0, 3, 2,
                SequentialJournal.open(part, "c1", sn)).sequential(), "continued from attempt 3");
        try (var lineages = Files.list(part)) {
            assertEquals(1, lineages.filter(p -> p.getFileName().toString().startsWith("lineage-")).count());
        }

        // killed while it wrote the last point: that point is scored again
        Path file = part.resolve(SequentialJournal.FILE);
        List<String> lines = Files.readAllLines(file);
        Files.writeString(file, String.join("\n", lines.subList(0, lines.size() - 1)) + "\n"
                + lines.get(lines.size() - 1).substring(0, 30));
        assertEquals(whole, bench.run(EditMethods.SUBJECT_NEURON, List.of(), 0, 3, 2,
                SequentialJournal.open(part, "c1", sn)).sequential(), "the cut point scored again");
        assertEquals(lines, Files.readAllLines(file), "the cut line gone, the same line in its place");

        assertThrows(IllegalStateException.class, () -> SequentialJournal.open(part, "c2", sn));
        assertThrows(IllegalStateException.class, () -> SequentialJournal.open(part, "c1", "ROME"));
    }

    private static double p(Model model, int[] prompt, int[] target) {
        return ReferenceMath.teacherForcedProbability(model, prompt, target);
    }

    /**
     * The subject-neuron method's sequential and joint protocols in small form: a joint batch of every record flips
     * every record, and at the end of the sequence through the gate (retention included) every accepted edit still
     * holds on the lineage.
     */
    @Test
    void subjectNeuronEditsHoldTogetherInABatchAndInSequence() throws Exception {
        List<EditRecord> records = records();
        EditBenchmark bench = new EditBenchmark(MODEL, records, List.of("Once upon a"), 12);
        EditBenchmark.MethodResult sn = bench.run(EditMethods.SUBJECT_NEURON, List.of(), records.size(), records.size(),
                records.size());
        assertTrue(sn.singles().isEmpty());
        assertEquals(records.size(), sn.batchSize());
        assertEquals(1.0, sn.batch().es(), "every fact of the joint batch flips: " + sn.batch());
        assertEquals(0.0, sn.batchUneditedUntouched().es(), "the batch's reference is the unedited model: "
                + sn.batchUneditedUntouched());
        EditBenchmark.SequentialPoint end = sn.sequential().get(sn.sequential().size() - 1);
        assertEquals(records.size(), end.attempted());
        assertTrue(end.accepted() >= 1, "the gate accepts at least one edit: " + end);
        assertEquals(1.0, end.acceptedScores().es(), "no accepted edit was undone by a later one: " + end);
    }

    @Test
    void everyProtocolRunsAndReports(@TempDir Path out) throws Exception {
        List<EditRecord> records = records();
        EditBenchmark bench = new EditBenchmark(MODEL, records, List.of("Once upon a"), 12);
        CounterFactScores.Scores unedited = bench.unedited();
        EditBenchmark.MethodResult memit = bench.run(EditMethods.MEMIT, null, 2, records.size(), 1);
        assertEquals(records.size(), memit.singles().size());
        double editedEs = memit.singles().stream().mapToDouble(s -> s.scores().es()).average().orElseThrow();
        assertTrue(editedEs > unedited.es(), "edits raise ES: " + editedEs + " vs " + unedited.es());
        assertEquals(2, memit.batchSize());
        assertTrue(memit.batch().es() > 0, "the batch flips at least one of its records: " + memit.batch());
        assertEquals(records.size(), memit.sequential().size());
        for (int i = 0; i < memit.sequential().size(); i++) {
            EditBenchmark.SequentialPoint p = memit.sequential().get(i);
            assertEquals(i + 1, p.attempted());
            assertTrue(p.accepted() <= p.attempted());
        }
        assertTrue(memit.singles().stream().allMatch(s -> s.parameters() > 0 && s.fluency() > 0));
        EditBenchmarkReport report = new EditBenchmarkReport(MODEL.name(), "stories260K-ci.jsonl", records.size(),
                unedited, bench.fluency(MODEL, records), List.of(memit));
        report.write(out);
        JsonNode json = new ObjectMapper().readTree(out.resolve("edits-stories260K-stories260K-ci.json").toFile());
        assertEquals(records.size(), json.get("methods").get(0).get("singles").size());
        String md = Files.readString(out.resolve("edits-stories260K-stories260K-ci.md"));
        assertTrue(md.contains("| MEMIT | single edits, all |") && md.contains("| MEMIT | one batch | 2 |"), md);
    }
}
