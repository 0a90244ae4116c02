package dev.engram.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import dev.engram.verification.DerivedNeighbours;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One record, tokenized as the server tokenizes an edit request, in either format:
 * <ul>
 * <li>the benchmark's (CounterFact's fields, {@code editing/benchmark/*.jsonl}): the edit request gets the prompt,
 * targets and paraphrases only; the neighbourhood prompts (other subjects whose true answer is target_true: NS) and
 * the relation neighbours (other subjects with their own answers: RS) are held out for scoring, never shown to the gate
 * or to training;</li>
 * <li>an edit request's ({@code editing/*.jsonl}): its neighbours are given to the gate and scored as relation
 * neighbours (RS); it has no neighbourhood prompts.</li>
 * </ul>
 * Either way the edit carries its subject, contrast prompts and the gate's derived neighbours, as a served request does.
 *
 * @param neighbourhood      CounterFact's neighbourhood prompts (expected answer: target_true)
 * @param relationNeighbours prompts of the same relation with their own answers
 * @param generation         prompts fluency is measured on
 */
public record EditRecord(String label, String relation, EditCase edit, List<int[]> neighbourhood,
        List<Neighbour> relationNeighbours, List<int[]> generation) {

    public static List<EditRecord> load(Model model, Path jsonl) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<EditRecord> out = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            if (!line.isBlank()) {
                out.add(parse(model, json.readTree(line)));
            }
        }
        return out;
    }

    static EditRecord parse(Model model, JsonNode r) {
        boolean benchmark = r.has("paraphrase_prompts");
        String template = benchmark ? r.get("prompt").asText() : r.path("template").asText("");
        String subject = r.path("subject").asText("");
        String prompt = !benchmark && r.hasNonNull("prompt") ? r.get("prompt").asText() : template.replace("{}", subject);
        List<int[]> paraphrases = tokens(model, r.path(benchmark ? "paraphrase_prompts" : "paraphrases"));
        List<Neighbour> relation = new ArrayList<>();
        r.path(benchmark ? "relation_neighbours" : "neighbours").forEach(n -> relation.add(new Neighbour(
                model.tokenizer().encodePrompt(n.get("prompt").asText()),
                model.tokenizer().encodeContinuation(n.get(benchmark ? "answer" : "expected").asText()))));
        EditCase edit = new EditCase(model.tokenizer().encodePrompt(prompt),
                model.tokenizer().encodeContinuation(r.get("target_new").asText()),
                model.tokenizer().encodeContinuation(r.get("target_true").asText()), paraphrases,
                benchmark ? List.of() : relation).withSubject(model, subject, template);
        edit = DerivedNeighbours.attach(model, edit, subject, template);
        List<int[]> generation = r.has("generation_prompts") ? tokens(model, r.get("generation_prompts"))
                : List.of(edit.prompt());
        return new EditRecord((subject.isEmpty() ? prompt : subject) + " →" + r.get("target_new").asText(),
                r.path("relation").asText(""), edit, tokens(model, r.path("neighborhood_prompts")), relation,
                generation);
    }

    /**
     * This record with the neighbourhood prompts and relation neighbours that are themselves edited in {@code edited}
     * (the prompt or a paraphrase of one of those records) left out. The test set's neighbours are other test subjects,
     * so in a batch or a sequence they are often edited on purpose: "Marseille is in" answering Italy after Marseille →
     * Italy is that edit working, not a leak of Lyon's. Scores over what is left carry their own name (NS*, RS*).
     */
    EditRecord withoutNeighboursEditedIn(List<EditRecord> edited) {
        java.util.Set<String> prompts = new java.util.HashSet<>();
        for (EditRecord r : edited) {
            prompts.add(java.util.Arrays.toString(r.edit().prompt()));
            r.edit().paraphrases().forEach(q -> prompts.add(java.util.Arrays.toString(q)));
        }
        return new EditRecord(label, relation, edit, neighbourhood.stream()
                .filter(q -> !prompts.contains(java.util.Arrays.toString(q))).toList(), relationNeighbours.stream()
                .filter(n -> !prompts.contains(java.util.Arrays.toString(n.prompt()))).toList(), generation);
    }

    private static List<int[]> tokens(Model model, JsonNode texts) {
        List<int[]> out = new ArrayList<>();
        texts.forEach(t -> out.add(model.tokenizer().encodePrompt(t.asText())));
        return out;
    }
}
