package dev.engram.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.editing.ContrastSubjects;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes the CounterFact-format benchmark of one model from the fact tables in {@code benchmark/} ({@link BenchmarkFacts}):
 * {@code BenchmarkBuilder <model> <test.jsonl> <dev.jsonl>}.
 *
 * <p>A record is a fact of the TEST (or DEV) part whose prompt the unedited model answers with target_true's first
 * token (target_true is the model's answer). Its neighbourhood prompts are the relation's prompt filled with other
 * subjects of the same part whose true object is target_true — CounterFact's neighbourhood, not filtered on the model
 * being right; records with fewer than {@value #MIN_NEIGHBOURHOOD} such subjects are left out. Relation neighbours are
 * the prompt filled with subjects of the same part that have another object (RS). target_new is another object of the
 * relation, drawn with a seed from the record's index. Records of the two parts share no subject, so no prompt of
 * either set occurs in the other: a TEST record's neighbours are TEST subjects; a DEV record's are DEV or POOL subjects
 * (the development part alone is too small to give most objects five neighbours).
 */
public final class BenchmarkBuilder {
    static final int MIN_NEIGHBOURHOOD = 5;
    private static final int MAX_NEIGHBOURHOOD = 10;
    private static final int RELATION_NEIGHBOURS = 5;
    private static final int BATCH = 32;

    private final Model model;
    private final BenchmarkFacts facts;
    private final JsonNode relations;
    private final ObjectMapper json = new ObjectMapper();

    BenchmarkBuilder(Model model, BenchmarkFacts facts, JsonNode relations) {
        this.model = model;
        this.facts = facts;
        this.relations = relations;
    }

    public static void main(String[] args) throws IOException {
        Model model = EvaluationModels.load(args[0]);
        if (args[1].equals("--scale")) {
            // BenchmarkBuilder <model> --scale <scale-test.jsonl> <scale-dev.jsonl>: records of the scale table's
            // subjects only, made as the frozen ones were, their neighbours drawn from every table
            BenchmarkFacts facts = BenchmarkFacts.loadWithScale(BenchmarkFacts.excludedSubjects());
            java.util.Set<BenchmarkFacts.Fact> scale = new java.util.HashSet<>(facts.scale());
            BenchmarkBuilder builder = new BenchmarkBuilder(model, facts, readRelations());
            write(builder.records(BenchmarkFacts.Part.TEST, scale::contains), Path.of(args[2]));
            write(builder.records(BenchmarkFacts.Part.DEV, scale::contains), Path.of(args[3]));
            return;
        }
        BenchmarkFacts facts = BenchmarkFacts.load(BenchmarkFacts.excludedSubjects());
        BenchmarkBuilder builder = new BenchmarkBuilder(model, facts, readRelations());
        write(builder.records(BenchmarkFacts.Part.TEST, f -> true), Path.of(args[1]));
        write(builder.records(BenchmarkFacts.Part.DEV, f -> true), Path.of(args[2]));
        if (args.length > 3) {
            writePool(facts, Path.of(args[3]));
        }
    }

    /** The POOL part's subjects, one a line in table order: the verification gate's neighbour pool. */
    private static void writePool(BenchmarkFacts facts, Path file) throws IOException {
        java.util.Set<String> subjects = new java.util.LinkedHashSet<>();
        facts.all().stream().filter(f -> BenchmarkFacts.part(f.subject()) == BenchmarkFacts.Part.POOL)
                .forEach(f -> subjects.add(f.subject()));
        BenchmarkFacts.earlierRecordSubjects().stream()
                .filter(s -> ContrastSubjects.pool().stream().noneMatch(c -> c.equalsIgnoreCase(s)))
                .forEach(subjects::add);
        String header = """
                # Subjects the verification gate fills an edit's template with (dev.engram.verification.DerivedNeighbours).
                # The POOL part of the evaluation's fact tables (src/eval/resources/dev/engram/evaluation/benchmark/,
                # written by BenchmarkBuilder), then the subjects of the earlier record files: no subject of the frozen
                # test set, and none of the training contrast pool.
                """;
        Files.writeString(file, header + String.join("\n", subjects) + "\n", StandardCharsets.UTF_8);
        System.out.printf("%s: %d subjects%n", file, subjects.size());
    }

    static JsonNode readRelations() throws IOException {
        try (InputStream in = BenchmarkFacts.resource("relations.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static void write(List<ObjectNode> records, Path file) throws IOException {
        StringBuilder out = new StringBuilder();
        for (ObjectNode r : records) {
            out.append(r.toString()).append('\n');
        }
        Files.writeString(file, out.toString(), StandardCharsets.UTF_8);
        Map<String, Integer> perRelation = new LinkedHashMap<>();
        records.forEach(r -> perRelation.merge(r.get("relation").asText(), 1, Integer::sum));
        System.out.printf("%s: %d records %s%n", file, records.size(), perRelation);
    }

    /** Records of the facts of {@code part} that {@code edited} accepts and the model answers. */
    List<ObjectNode> records(BenchmarkFacts.Part part, java.util.function.Predicate<BenchmarkFacts.Fact> edited) {
        List<ObjectNode> out = new ArrayList<>();
        relations.fieldNames().forEachRemaining(relation -> {
            List<BenchmarkFacts.Fact> known = answeredByModel(relation,
                    facts.of(relation, part).stream().filter(edited).toList());
            List<BenchmarkFacts.Fact> mine = new ArrayList<>(facts.of(relation, part));
            if (part == BenchmarkFacts.Part.DEV) {
                mine.addAll(facts.of(relation, BenchmarkFacts.Part.POOL));
            }
            List<String> objects = facts.objects(relation);
            for (BenchmarkFacts.Fact fact : known) {
                List<BenchmarkFacts.Fact> sameObject = mine.stream()
                        .filter(f -> f.object().equals(fact.object()) && !f.subject().equals(fact.subject())).toList();
                if (sameObject.size() < MIN_NEIGHBOURHOOD) {
                    continue;
                }
                Random random = new Random(31L * out.size() + fact.subject().hashCode());
                String targetNew = newObject(objects, fact.object(), random);
                List<BenchmarkFacts.Fact> others = mine.stream().filter(f -> !f.object().equals(fact.object())
                        && !f.object().equals(targetNew)).toList();
                out.add(record(out.size(), relation, fact, targetNew, sample(sameObject, MAX_NEIGHBOURHOOD, random),
                        sample(others, RELATION_NEIGHBOURS, random)));
            }
        });
        return out;
    }

    private ObjectNode record(int id, String relation, BenchmarkFacts.Fact fact, String targetNew,
            List<BenchmarkFacts.Fact> neighbourhood, List<BenchmarkFacts.Fact> relationNeighbours) {
        JsonNode r = relations.get(relation);
        String template = r.get("prompt").asText();
        ObjectNode out = json.createObjectNode();
        out.put("case_id", id);
        out.put("relation", relation);
        out.put("subject", fact.subject());
        out.put("prompt", template);
        out.put("target_true", " " + fact.object());
        out.put("target_new", " " + targetNew);
        ArrayNode paraphrases = out.putArray("paraphrase_prompts");
        r.get("paraphrases").forEach(p -> paraphrases.add(fill(p.asText(), fact.subject())));
        ArrayNode hood = out.putArray("neighborhood_prompts");
        neighbourhood.forEach(n -> hood.add(template.replace("{}", n.subject())));
        ArrayNode rel = out.putArray("relation_neighbours");
        relationNeighbours.forEach(n -> rel.addObject().put("prompt", template.replace("{}", n.subject()))
                .put("answer", " " + n.object()));
        ArrayNode generation = out.putArray("generation_prompts");
        r.get("generation").forEach(p -> generation.add(fill(p.asText(), fact.subject())));
        return out;
    }

    /** The template with the subject in place; a leading "The" is lower-cased inside a sentence. */
    static String fill(String template, String subject) {
        boolean inside = !template.startsWith("{}");
        return template.replace("{}", inside && subject.startsWith("The ") ? "the" + subject.substring(3) : subject);
    }

    /** The facts whose prompt the model answers with the object's first token (greedy top-1). */
    private List<BenchmarkFacts.Fact> answeredByModel(String relation, List<BenchmarkFacts.Fact> candidates) {
        String template = relations.get(relation).get("prompt").asText();
        List<BenchmarkFacts.Fact> out = new ArrayList<>();
        for (int from = 0; from < candidates.size(); from += BATCH) {
            List<BenchmarkFacts.Fact> batch = candidates.subList(from, Math.min(candidates.size(), from + BATCH));
            List<int[]> prompts = batch.stream()
                    .map(f -> model.tokenizer().encodePrompt(template.replace("{}", f.subject()))).toList();
            float[][] logits = ForwardPass.of(model).lastLogits(PackedSequences.of(prompts));
            for (int i = 0; i < batch.size(); i++) {
                int answer = model.tokenizer().encodeContinuation(" " + batch.get(i).object())[0];
                if (Boolean.getBoolean("benchmark.verbose")) {
                    System.out.printf("%s\t%s\t%s\t%s%n", relation, batch.get(i).subject(), batch.get(i).object(),
                            model.tokenizer().tokenString(argmax(logits[i])));
                }
                if (argmax(logits[i]) == answer) {
                    out.add(batch.get(i));
                }
            }
        }
        return out;
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int v = 1; v < row.length; v++) {
            if (row[v] > row[best]) {
                best = v;
            }
        }
        return best;
    }

    private String newObject(List<String> objects, String trueObject, Random random) {
        int trueFirst = model.tokenizer().encodeContinuation(" " + trueObject)[0];
        List<String> choices = objects.stream()
                .filter(o -> model.tokenizer().encodeContinuation(" " + o)[0] != trueFirst).toList();
        return choices.get(random.nextInt(choices.size()));
    }

    private static <T> List<T> sample(List<T> from, int count, Random random) {
        List<T> copy = new ArrayList<>(from);
        java.util.Collections.shuffle(copy, random);
        return copy.subList(0, Math.min(count, copy.size()));
    }
}
