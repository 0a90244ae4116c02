package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Editor;
import dev.engram.editing.Neighbour;
import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.support.ReferenceMath;
import dev.engram.support.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link VerifiedEdit} measures the parent on another thread while the edit is computed, and the edited model's
 * continuation beside its scores; every number of its report must equal a direct measurement on each model (real stories260K).
 */
class VerifiedEditTest {
    private static final Model MODEL = TestModels.sharedStories260K();

    @Test
    void overlappedVerificationEqualsVerifyingAfterTheEdit() throws Exception {
        int[] prompt = MODEL.tokenizer().encodePrompt("Once upon a time, there was a little girl named");
        EditCase edit = new EditCase(prompt, MODEL.tokenizer().encodeContinuation(" Sue"),
                MODEL.tokenizer().encodeContinuation(" Lily"),
                List.of(MODEL.tokenizer().encodePrompt("One day, a little girl named")),
                List.of(new Neighbour(MODEL.tokenizer().encodePrompt("Once upon a time, there was a little boy named"),
                        MODEL.tokenizer().encodeContinuation(" Tim"))));
        List<String> sentinels = Files.readAllLines(Path.of("editing/sentinels/stories260K.txt")).stream()
                .filter(s -> !s.isBlank() && !s.startsWith("#")).toList();
        GateThresholds thresholds = GateThresholds.defaults();
        EditOptions options = EditOptions.defaults(EditMethod.CLOSED_FORM, MODEL.config().nLayers());

        VerifiedEdit overlapped = VerifiedEdit.run(MODEL, edit, options, thresholds, sentinels);
        Model edited = new Editor(MODEL).apply(new Editor(MODEL).edit(edit, options));
        assertEquals(edited.delta().hash(), overlapped.edited().delta().hash());

        // every number against a direct measurement on each model, one call at a time
        VerificationReport r = overlapped.report();
        assertEquals(probability(edited, prompt, edit.targetNew()), r.efficacy().newProb(), 1e-5);
        assertEquals(probability(MODEL, prompt, edit.targetTrue()), r.efficacy().trueProbBefore(), 1e-5);
        assertEquals(probability(edited, edit.paraphrases().get(0), edit.targetNew()),
                r.paraphrases().get(0).newProb(), 1e-5);
        assertEquals(kl(edit.neighbours().get(0).prompt(), edited), r.neighbours().get(0).kl(), 1e-5);
        assertEquals(sentinels.size(), r.sentinels().size());
        for (int i = 0; i < sentinels.size(); i++) {
            assertEquals(kl(MODEL.tokenizer().encodePrompt(sentinels.get(i)), edited), r.sentinels().get(i).kl(), 1e-5);
        }
        assertEquals(greedy(MODEL, prompt, thresholds.fluencyTokens()), r.fluency().parentText());
        assertEquals(greedy(edited, prompt, thresholds.fluencyTokens()), r.fluency().editedText());
        assertNotEquals(r.fluency().parentText(), r.fluency().editedText(), "the edit changes the continuation");
        assertTrue(r.efficacy().success(), "the edit itself works");
    }

    private static double probability(Model model, int[] prompt, int[] target) {
        return ReferenceMath.teacherForcedProbability(model, prompt, target);
    }

    /** KL(parent ‖ edited) at the prompt's last position, summed over the vocabulary in doubles. */
    private static double kl(int[] prompt, Model edited) {
        NextTokenDistribution p = new NextTokenDistribution(ForwardPass.of(MODEL).lastLogits(prompt));
        NextTokenDistribution q = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(prompt));
        double sum = 0;
        for (int v = 0; v < p.vocabSize(); v++) {
            sum += p.probability(v) * (p.logProbability(v) - q.logProbability(v));
        }
        return sum;
    }

    private static String greedy(Model model, int[] prompt, int tokens) {
        int[] all = new GreedyGenerator(model).generate(prompt, tokens);
        return model.tokenizer().decode(Arrays.copyOfRange(all, prompt.length, all.length));
    }
}
