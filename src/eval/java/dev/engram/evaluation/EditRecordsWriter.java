package dev.engram.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.AtomicFiles;
import dev.engram.trace.ForwardPass;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the edit benchmark in the CounterFact record format from the knowledge probes: for each relation a main
 * template and three paraphrase templates written here; {@code target_new} is another subject's answer; the
 * neighbours are three other subjects of the same relation with their true answers. Only facts the model knows are
 * kept: the true answer is its top-1 on the prompt, and on each neighbour prompt. Command:
 * {@code EditRecordsWriter <model[=path]> <out.jsonl>}.
 */
public final class EditRecordsWriter {
    /**
     * A relation: the knowledge type, how its probes are phrased, the edit's prompt template and paraphrase templates
     * ({} is the subject).
     */
    record Relation(String type, String probeTemplate, String template, List<String> paraphrases) {
        Relation(String type, String template, List<String> paraphrases) {
            this(type, template, template, paraphrases);
        }

        String subjectOf(String prompt) {
            int at = probeTemplate.indexOf("{}");
            String prefix = probeTemplate.substring(0, at);
            String suffix = probeTemplate.substring(at + 2);
            if (!prompt.startsWith(prefix) || !prompt.endsWith(suffix)) {
                throw new IllegalArgumentException("\"" + prompt + "\" does not follow \"" + probeTemplate + "\"");
            }
            return prompt.substring(prefix.length(), prompt.length() - suffix.length());
        }
    }

    static final List<Relation> RELATIONS = List.of(
            new Relation("capital", "The capital of {} is", List.of("The capital city of {} is",
                    "{}'s capital city is", "In {}, the seat of government is in")),
            new Relation("language", "The official language of {} is", List.of(
                    "The main language spoken in {} is", "Most people in {} speak", "In {}, people mostly speak")),
            new Relation("country", "{} is a city in", "{} is a city in the country of", List.of(
                    "The city of {} is located in the country of", "{} lies in the country of",
                    "The country where {} is found is")),
            new Relation("capital-of", "{} is the capital of", List.of("{} is the capital city of",
                    "The city of {} is the capital of", "{} serves as the capital of")),
            new Relation("continent", "{} is a country on the continent of", List.of(
                    "{} is located on the continent of", "The continent where {} lies is",
                    "{} is part of the continent of")));

    private EditRecordsWriter() {
    }

    private record Fact(String subject, String answer, int answerToken) {
    }

    public static void main(String[] args) throws Exception {
        Model model = EvaluationModels.load(args[0]);
        List<String> lines = records(model, args[0].contains("=") ? args[0].substring(0, args[0].indexOf('='))
                : args[0]);
        AtomicFiles.writeString(Path.of(args[1]), String.join("\n", lines) + "\n");
        System.out.println(lines.size() + " records written to " + args[1]);
    }

    static List<String> records(Model model, String modelName) {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        for (Relation relation : RELATIONS) {
            List<Fact> known = new ArrayList<>();
            for (KnowledgeItem item : KnowledgeSets.load(List.of(relation.type()))) {
                int answer = ProbeFilter.goldToken(model, item);
                String subject = relation.subjectOf(item.prompt());
                int[] prompt = model.tokenizer().encodePrompt(relation.template().replace("{}", subject));
                if (new NextTokenDistribution(ForwardPass.of(model).lastLogits(prompt)).argmax() == answer) {
                    known.add(new Fact(subject, item.gold(), answer));
                }
            }
            int n = known.size();
            for (int i = 0; i < n; i++) {
                Fact fact = known.get(i);
                Fact other = null;
                for (int step = n / 2; step < n / 2 + n && other == null; step++) {
                    Fact candidate = known.get((i + step) % n);
                    if (candidate.answerToken != fact.answerToken) {
                        other = candidate;
                    }
                }
                if (other == null) {
                    continue;
                }
                ObjectNode record = json.createObjectNode();
                record.putObject("model").put("name", modelName);
                record.put("subject", fact.subject);
                record.put("template", relation.template());
                record.put("target_new", other.answer);
                record.put("target_true", fact.answer);
                ArrayNode paraphrases = record.putArray("paraphrases");
                relation.paraphrases().forEach(p -> paraphrases.add(p.replace("{}", fact.subject)));
                ArrayNode neighbours = record.putArray("neighbours");
                for (int step = 1; step < n && neighbours.size() < 3; step++) {
                    Fact neighbour = known.get((i + step) % n);
                    if (neighbour.answerToken != fact.answerToken && neighbour.answerToken != other.answerToken) {
                        neighbours.addObject().put("prompt", relation.template().replace("{}", neighbour.subject))
                                .put("expected", neighbour.answer);
                    }
                }
                out.add(record.toString());
            }
        }
        return out;
    }
}
