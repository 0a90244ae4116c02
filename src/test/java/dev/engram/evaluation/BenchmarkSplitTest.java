package dev.engram.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.editing.ContrastSubjects;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The frozen benchmark (EVALUATION.md): its test records are the file whose SHA-256 EVALUATION.md states, they have the
 * shape the issue asks for, and no development record (the benchmark's own development part, or the earlier
 * development file) shares a subject, a prompt or a neighbour prompt with them. The training contrast pool and the
 * gate's neighbour pool hold no test subject either.
 */
class BenchmarkSplitTest {
    static final Path TEST = Path.of("editing/benchmark/smollm2-test.jsonl");
    /** Test-part records beyond the frozen set, for sequential editing at scale (BenchmarkBuilder --scale). */
    static final Path SCALE_TEST = Path.of("editing/benchmark/smollm2-scale-test.jsonl");
    static final List<Path> DEVELOPMENT = List.of(Path.of("editing/benchmark/smollm2-dev.jsonl"),
            Path.of("editing/benchmark/smollm2-scale-dev.jsonl"), Path.of("src/test/resources/dev/smollm2-dev.jsonl"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theTestSetIsTheFileEvaluationMdFroze() throws Exception {
        String evaluation = Files.readString(Path.of("EVALUATION.md"));
        Matcher m = Pattern.compile("smollm2-test\\.jsonl`?[^\\n]*?SHA-256 `([0-9a-f]{64})`").matcher(evaluation);
        assertTrue(m.find(), "EVALUATION.md names the test set's SHA-256");
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(TEST)));
        assertEquals(m.group(1), actual, "the frozen test set changed");
    }

    @Test
    void testRecordsHaveCounterFactsShape() throws IOException {
        List<JsonNode> records = read(TEST);
        assertTrue(records.size() >= 400, "at least 400 records: " + records.size());
        assertTrue(relationsOfShape(records).size() >= 8, "at least 8 relations: " + relationsOfShape(records));
    }

    /**
     * The scale records have the frozen records' shape and none of their subjects, and the two together hold the
     * 1,000 edits sequential editing at scale asks for.
     */
    @Test
    void scaleRecordsHaveTheSameShapeAndOtherSubjects() throws IOException {
        List<JsonNode> scale = read(SCALE_TEST);
        relationsOfShape(scale);
        assertTrue(scale.size() + read(TEST).size() >= 1000, "test and scale records: " + (scale.size()
                + read(TEST).size()));
        Set<String> frozen = subjects(read(TEST));
        for (String s : subjects(scale)) {
            assertTrue(!frozen.contains(s), "scale subject " + s + " is a frozen test subject");
        }
    }

    /** Checks each record's CounterFact shape; the relations they cover. */
    private static Set<String> relationsOfShape(List<JsonNode> records) {
        Set<String> relations = new HashSet<>();
        for (JsonNode r : records) {
            relations.add(r.get("relation").asText());
            String id = "case " + r.get("case_id");
            assertTrue(r.get("paraphrase_prompts").size() >= 2, id);
            assertTrue(r.get("neighborhood_prompts").size() >= 5, id);
            assertTrue(r.get("relation_neighbours").size() >= 3, id);
            assertTrue(r.get("generation_prompts").size() >= 1, id);
            assertTrue(!r.get("target_true").asText().equals(r.get("target_new").asText()), id);
            for (JsonNode n : r.get("relation_neighbours")) {
                assertTrue(!n.get("answer").asText().equals(r.get("target_true").asText()), id + ": " + n);
            }
        }
        return relations;
    }

    @Test
    void developmentRecordsShareNoSubjectOrPromptWithTheTestSet() throws IOException {
        Set<String> testSubjects = subjects(testRecords());
        Set<String> testPrompts = prompts(testRecords());
        for (Path dev : DEVELOPMENT) {
            List<JsonNode> records = read(dev);
            assertTrue(!records.isEmpty(), dev + " has records");
            for (String s : subjects(records)) {
                assertTrue(!testSubjects.contains(s), dev + " shares subject " + s);
            }
            for (String p : prompts(records)) {
                assertTrue(!testPrompts.contains(p), dev + " shares prompt " + p);
            }
        }
    }

    @Test
    void neitherTrainingNorGatePoolHoldsATestSubject() throws IOException {
        Set<String> testSubjects = subjects(testRecords());
        for (String s : ContrastSubjects.pool()) {
            assertTrue(!testSubjects.contains(key(s)), "contrast subject " + s + " is a test subject");
        }
        List<String> gatePool = Files.readAllLines(Path.of("src/main/resources/dev/engram/verification/neighbour-subjects.txt"))
                .stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertTrue(gatePool.size() >= 100, "gate pool size " + gatePool.size());
        for (String s : gatePool) {
            assertTrue(!testSubjects.contains(key(s)), "gate pool subject " + s + " is a test subject");
        }
    }

    /** The frozen test records and the scale records beyond them. */
    private static List<JsonNode> testRecords() throws IOException {
        List<JsonNode> out = new ArrayList<>(read(TEST));
        out.addAll(read(SCALE_TEST));
        return out;
    }

    static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    private static Set<String> subjects(List<JsonNode> records) {
        Set<String> out = new HashSet<>();
        records.stream().filter(r -> r.hasNonNull("subject")).forEach(r -> out.add(key(r.get("subject").asText())));
        return out;
    }

    /**
     * Every prompt a record holds, whichever format it is in: the benchmark's (prompt template, paraphrase,
     * neighbourhood, relation-neighbour and generation prompts) or an edit request's (prompt or template, paraphrases,
     * neighbours).
     */
    private static Set<String> prompts(List<JsonNode> records) {
        Set<String> out = new HashSet<>();
        for (JsonNode r : records) {
            String subject = r.path("subject").asText("");
            String template = r.hasNonNull("template") ? r.get("template").asText() : r.path("prompt").asText("");
            out.add(key(template.replace("{}", subject)));
            for (String field : List.of("paraphrase_prompts", "paraphrases", "neighborhood_prompts",
                    "generation_prompts")) {
                r.path(field).forEach(p -> out.add(key(p.asText())));
            }
            for (String field : List.of("relation_neighbours", "neighbours")) {
                r.path(field).forEach(n -> out.add(key(n.get("prompt").asText())));
            }
        }
        return out;
    }

    private static String key(String s) {
        return s.strip().toLowerCase(Locale.ROOT);
    }
}
