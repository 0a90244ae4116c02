package dev.engram.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The knowledge datasets shipped with Engram (written here, in {@code dev/engram/evaluation/knowledge/}): the paper's
 * six types for general models and a TinyStories-style set for stories260K, one JSONL file per type.
 */
public final class KnowledgeSets {
    /** The six knowledge types of Yu & Ananiadou (2024). */
    public static final List<String> PAPER_TYPES = List.of("language", "capital", "country", "color", "number", "month");
    /** The TinyStories-style set, for models trained on children's stories. */
    public static final List<String> STORY_TYPES = List.of("stories");

    private KnowledgeSets() {
    }

    public static List<KnowledgeItem> load(List<String> types) {
        List<KnowledgeItem> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String type : types) {
            String resource = "knowledge/" + type + ".jsonl";
            try (InputStream in = KnowledgeSets.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalArgumentException("no knowledge set named " + type);
                }
                BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    if (!line.isBlank()) {
                        JsonNode node = json.readTree(line);
                        out.add(new KnowledgeItem(type, node.get("prompt").asText(), node.get("gold").asText()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }
}
