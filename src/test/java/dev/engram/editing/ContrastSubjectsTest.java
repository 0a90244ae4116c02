package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The learned edit's contrast subjects: an independent pool, ranked by the model's own representations. */
class ContrastSubjectsTest {

    /** No pool entry occurs anywhere in the evaluation batches, the sentinels or the development records. */
    @Test
    void poolIsDisjointFromEveryEvaluationAndDevelopmentRecord() throws IOException {
        List<String> pool = ContrastSubjects.pool();
        assertTrue(pool.size() >= 40, "pool of " + pool.size());
        assertEquals(pool.size(), new HashSet<>(pool).size(), "duplicates in the pool");
        List<Path> files = new ArrayList<>();
        for (String dir : new String[] {"editing", "editing/sentinels", "src/test/resources/dev"}) {
            try (Stream<Path> list = Files.list(Path.of(dir))) {
                list.filter(Files::isRegularFile).forEach(files::add);
            }
        }
        assertTrue(files.stream().anyMatch(f -> f.endsWith("counterfact-smollm2.jsonl")), files.toString());
        for (Path file : files) {
            String text = Files.readString(file).toLowerCase(Locale.ROOT);
            for (String subject : pool) {
                assertFalse(text.contains(subject.toLowerCase(Locale.ROOT)), subject + " occurs in " + file);
            }
        }
    }

    /**
     * The ranking against a slow one: each subject traced alone, centred on the pool's mean, the cosine written out,
     * sorted.
     */
    @Test
    void nearestSubjectsMatchOneTraceEachAndAPlainCosine() {
        Model model = TestModels.smolLM2();
        String subject = "Norway";
        List<String> expected = new ArrayList<>(ContrastSubjects.pool());
        List<float[]> each = expected.stream().map(s -> alone(model, s)).toList();
        double[] mean = new double[each.get(0).length];
        for (float[] r : each) {
            for (int i = 0; i < mean.length; i++) {
                mean[i] += r[i] / (double) each.size();
            }
        }
        double[] target = centred(alone(model, subject), mean);
        List<Double> similarity = new ArrayList<>();
        for (float[] raw : each) {
            double[] r = centred(raw, mean);
            double dot = 0;
            double a = 0;
            double b = 0;
            for (int i = 0; i < r.length; i++) {
                dot += target[i] * r[i];
                a += target[i] * target[i];
                b += r[i] * r[i];
            }
            similarity.add(dot / Math.sqrt(a) / Math.sqrt(b));
        }
        List<String> ranked = new ArrayList<>(expected);
        ranked.sort(Comparator.comparingDouble(s -> -similarity.get(expected.indexOf(s))));
        List<String> nearest = ContrastSubjects.nearest(model, subject, 6);
        assertEquals(ranked.subList(0, 6), nearest);
        // the representation groups kinds of entity: people with people, substances with substances
        List<String> people = List.of("Isaac Newton", "Leonardo da Vinci", "Napoleon Bonaparte", "Ludwig van Beethoven",
                "Pablo Picasso", "Charles Darwin", "Galileo Galilei", "Jane Austen", "Mark Twain", "Nelson Mandela",
                "Cleopatra");
        assertTrue(people.containsAll(ContrastSubjects.nearest(model, "Albert Einstein", 4)),
                ContrastSubjects.nearest(model, "Albert Einstein", 4).toString());
        assertTrue(List.of("gold", "oxygen", "iron", "salt", "copper").containsAll(
                ContrastSubjects.nearest(model, "water", 3)), ContrastSubjects.nearest(model, "water", 3).toString());
    }

    @Test
    void theEditedSubjectIsNeverItsOwnContrast() {
        Model model = TestModels.smolLM2();
        List<String> all = ContrastSubjects.nearest(model, "latvia ", 1000);
        assertEquals(ContrastSubjects.pool().size() - 1, all.size());
        assertFalse(all.contains("Latvia"));
    }

    /** A filled template that is also one of the request's verification prompts never reaches training. */
    @Test
    void contrastPromptsLeaveOutTheVerificationPrompts() {
        Model model = TestModels.smolLM2();
        String template = "The capital of {} is";
        List<String> nearest = ContrastSubjects.nearest(model, "Norway", ContrastPrompts.COUNT);
        int[] neighbour = model.tokenizer().encodePrompt(template.replace("{}", nearest.get(1)));
        EditCase edit = new EditCase(model.tokenizer().encodePrompt("The capital of Norway is"),
                model.tokenizer().encodeContinuation(" Rome"), model.tokenizer().encodeContinuation(" Oslo"),
                List.of(), List.of(new Neighbour(neighbour, model.tokenizer().encodeContinuation(" Riga"))))
                .withSubject(model, "Norway", template);
        assertEquals(ContrastPrompts.COUNT - 1, edit.contrasts().size());
        for (int[] contrast : edit.contrasts()) {
            assertFalse(java.util.Arrays.equals(neighbour, contrast), "a neighbour reached training");
        }
        assertArrayEquals(model.tokenizer().encodePrompt(template.replace("{}", nearest.get(0))), edit.contrasts().get(0));
        assertTrue(new EditCase(edit.prompt(), edit.targetNew(), edit.targetTrue(), List.of(), List.of())
                .withSubject(model, "", template).contrasts().isEmpty(), "no subject, no contrasts");
    }

    private static double[] centred(float[] r, double[] mean) {
        double[] out = new double[r.length];
        for (int i = 0; i < r.length; i++) {
            out[i] = r[i] - mean[i];
        }
        return out;
    }

    private static float[] alone(Model model, String text) {
        int[] tokens = model.tokenizer().encodePrompt(text);
        try (Trace trace = ForwardPass.of(model).trace(tokens); NDScope scope = new NDScope()) {
            return trace.residPost(model.config().nLayers() / 2).get(tokens.length - 1).toFloatArray();
        }
    }
}
