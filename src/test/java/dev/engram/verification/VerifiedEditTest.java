package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Editor;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link VerifiedEdit} measures the parent on another thread while the edit is computed, and the edited model's
 * continuation beside its scores; its report must equal verifying afterwards, one step at a time (real stories260K).
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
        VerificationReport sequential = new Verifier(thresholds).verify(MODEL, edited, edit, sentinels);

        VerificationReport r = overlapped.report();
        assertEquals(sequential.efficacy().newProb(), r.efficacy().newProb(), 1e-6);
        assertEquals(sequential.efficacy().trueProbBefore(), r.efficacy().trueProbBefore(), 1e-6);
        assertEquals(sequential.paraphrases().get(0).newProb(), r.paraphrases().get(0).newProb(), 1e-6);
        assertEquals(sequential.neighbours().get(0).kl(), r.neighbours().get(0).kl(), 1e-6);
        assertEquals(sequential.sentinels().size(), r.sentinels().size());
        assertEquals(sentinels.size(), r.sentinels().size());
        for (int i = 0; i < r.sentinels().size(); i++) {
            assertEquals(sequential.sentinels().get(i).kl(), r.sentinels().get(i).kl(), 1e-6);
        }
        assertEquals(sequential.fluency(), r.fluency());
        assertEquals(sequential.failedGates(), r.failedGates());
        assertEquals(1.0, r.efficacy().success() ? 1.0 : 0.0, "the edit itself works");
    }
}
