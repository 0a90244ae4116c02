package dev.engram.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Editor;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.ReferenceMath;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edit benchmark's metrics against a slow reference, and a small run of every protocol on the real stories260K. */
class EditBenchmarkTest {
    private static final Model MODEL = TestModels.sharedStories260K();

    private static List<EditRecord> records() throws Exception {
        return EditRecord.load(MODEL, Path.of("editing/stories260K-examples.jsonl"));
    }

    @Test
    void harmonicMeanIsRomesScore() {
        assertEquals(0.75, CounterFactScores.harmonic(new CounterFactScores.Scores(1, 0.5, 1)), 1e-12);
        assertEquals(0, CounterFactScores.harmonic(new CounterFactScores.Scores(1, 0, 1)));
    }

    /** ES, PS and NS on an edited model equal the definitions computed one forward pass per token. */
    @Test
    void scoresMatchTheDefinitionsOnAnEditedModel() throws Exception {
        List<EditRecord> records = records();
        EditCase first = records.get(0).edit();
        Editor editor = new Editor(MODEL);
        Model edited = editor.apply(editor.edit(first, EditOptions.defaults(EditMethods.CLOSED_FORM,
                MODEL.config().nLayers())));
        List<CounterFactScores.Scores> fast = CounterFactScores.of(edited, records.stream().map(EditRecord::edit)
                .toList());
        for (int r = 0; r < records.size(); r++) {
            EditCase e = records.get(r).edit();
            double es = p(edited, e.prompt(), e.targetNew()) > p(edited, e.prompt(), e.targetTrue()) ? 1 : 0;
            double ps = e.paraphrases().stream().filter(q -> p(edited, q, e.targetNew()) > p(edited, q, e.targetTrue()))
                    .count() / (double) e.paraphrases().size();
            double ns = e.neighbours().stream().filter(n -> p(edited, n.prompt(), n.expected())
                    > p(edited, n.prompt(), e.targetNew())).count() / (double) e.neighbours().size();
            assertEquals(es, fast.get(r).es(), "ES of record " + r);
            assertEquals(ps, fast.get(r).ps(), 1e-12, "PS of record " + r);
            assertEquals(ns, fast.get(r).ns(), 1e-12, "NS of record " + r);
        }
        assertEquals(1.0, fast.get(0).es(), "the edited record flips");
    }

    /**
     * A case built so that each metric reads a different prompt: new beats true on the edit prompt but not on the
     * paraphrase, and the neighbour's expected answer beats true but not new.
     */
    @Test
    void eachMetricReadsItsOwnPromptsAndTargets() {
        int[] story = MODEL.tokenizer().encodePrompt("Once upon a time, there was a little girl named");
        int[] opening = MODEL.tokenizer().encodePrompt("Once upon a");
        NextTokenDistribution atStory = new NextTokenDistribution(ForwardPass.of(MODEL).lastLogits(story));
        int lily = atStory.argmax();
        int time = new NextTokenDistribution(ForwardPass.of(MODEL).lastLogits(opening)).argmax();
        int third = atStory.topK(3, id -> "").get(2).id();
        EditCase c = new EditCase(story, new int[] {lily}, new int[] {time}, List.of(opening),
                List.of(new dev.engram.editing.Neighbour(story, new int[] {third})));
        assertTrue(p(MODEL, opening, new int[] {time}) > p(MODEL, opening, new int[] {lily}));
        assertTrue(p(MODEL, story, new int[] {third}) > p(MODEL, story, new int[] {time}));
        CounterFactScores.Scores s = CounterFactScores.of(MODEL, List.of(c)).get(0);
        assertEquals(new CounterFactScores.Scores(1, 0, 0), s);
    }

    private static double p(Model model, int[] prompt, int[] target) {
        return ReferenceMath.teacherForcedProbability(model, prompt, target);
    }

    @Test
    void everyProtocolRunsAndReports(@TempDir Path out) throws Exception {
        List<EditRecord> records = records();
        EditBenchmark bench = new EditBenchmark(MODEL, records, List.of("Once upon a"));
        CounterFactScores.Scores unedited = bench.unedited();
        EditBenchmark.MethodResult closed = bench.run(EditMethods.CLOSED_FORM, 1);
        assertEquals(records.size(), closed.singles().size());
        double editedEs = closed.singles().stream().mapToDouble(s -> s.scores().es()).average().orElseThrow();
        assertTrue(editedEs > unedited.es(), "edits raise ES: " + editedEs + " vs " + unedited.es());
        assertEquals(records.size(), closed.sequential().size());
        for (int i = 0; i < closed.sequential().size(); i++) {
            EditBenchmark.SequentialPoint p = closed.sequential().get(i);
            assertEquals(i + 1, p.attempted());
            assertTrue(p.accepted() <= p.attempted());
        }
        long passed = closed.singles().stream().filter(EditBenchmark.SingleEdit::passed).count();
        assertTrue(passed >= 1, "at least one single edit passes the gate");
        assertTrue(closed.singles().stream().allMatch(s -> s.parameters() > 0 && s.millis() > 0));
        EditBenchmark.SequentialPoint last = closed.sequential().get(closed.sequential().size() - 1);
        assertTrue(last.accepted() >= 1);
        assertEquals(1.0, last.acceptedScores().es(), "the lineage carries every accepted edit");

        EditBenchmarkReport report = new EditBenchmarkReport(MODEL.name(), records.size(), unedited, List.of(closed));
        report.write(out);
        JsonNode json = new ObjectMapper().readTree(out.resolve("edits-stories260K.json").toFile());
        assertEquals(records.size(), json.get("methods").get(0).get("singles").size());
        assertTrue(Files.readString(out.resolve("edits-stories260K.md")).contains("| CLOSED_FORM | single, all |"));
        assertTrue(Files.readString(out.resolve("edits-stories260K.svg")).contains("<polyline"));
    }
}
