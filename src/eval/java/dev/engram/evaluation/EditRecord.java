package dev.engram.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One CounterFact-format record from an {@code editing/*.jsonl} file, tokenized as the server tokenizes an edit request:
 * the prompt (or the template with {@code {}} replaced by the subject), targets as continuations, paraphrases and
 * neighbours for verification only.
 */
public record EditRecord(String label, String template, EditCase edit) {

    public static List<EditRecord> load(Model model, Path jsonl) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<EditRecord> out = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode r = json.readTree(line);
            String template = r.path("template").asText("");
            String subject = r.path("subject").asText("");
            String prompt = r.hasNonNull("prompt") ? r.get("prompt").asText() : template.replace("{}", subject);
            List<int[]> paraphrases = new ArrayList<>();
            r.path("paraphrases").forEach(p -> paraphrases.add(model.tokenizer().encodePrompt(p.asText())));
            List<Neighbour> neighbours = new ArrayList<>();
            r.path("neighbours").forEach(n -> neighbours.add(new Neighbour(
                    model.tokenizer().encodePrompt(n.get("prompt").asText()),
                    model.tokenizer().encodeContinuation(n.get("expected").asText()))));
            EditCase edit = new EditCase(model.tokenizer().encodePrompt(prompt),
                    model.tokenizer().encodeContinuation(r.get("target_new").asText()),
                    model.tokenizer().encodeContinuation(r.get("target_true").asText()), paraphrases, neighbours)
                    .withContrasts(model, subject, template);
            out.add(new EditRecord((subject.isEmpty() ? prompt : subject) + " →" + r.get("target_new").asText(),
                    template, edit));
        }
        return out;
    }
}
