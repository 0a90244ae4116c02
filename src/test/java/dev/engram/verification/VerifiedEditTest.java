package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.editing.EarlierEdit;
import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
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

    private static EditCase edit() {
        return new EditCase(MODEL.tokenizer().encodePrompt("Once upon a time, there was a little girl named"),
                MODEL.tokenizer().encodeContinuation(" Sue"), MODEL.tokenizer().encodeContinuation(" Lily"),
                List.of(MODEL.tokenizer().encodePrompt("One day, a little girl named")),
                List.of(new Neighbour(MODEL.tokenizer().encodePrompt("Once upon a time, there was a little boy named"),
                        MODEL.tokenizer().encodeContinuation(" Tim"))));
    }

    private static List<String> sentinels() throws Exception {
        return Files.readAllLines(Path.of("editing/sentinels/stories260K.txt")).stream()
                .filter(s -> !s.isBlank() && !s.startsWith("#")).toList();
    }

    /**
     * The guess the edited model's decode checks is what the parent says once target_new is said: target_new, then the
     * parent's greedy continuation of the prompt with target_new after it, as long as the fluency continuation.
     */
    @Test
    void theParentsGuessIsItsContinuationAfterTargetNew() throws Exception {
        EditCase edit = edit();
        GateThresholds thresholds = GateThresholds.defaults();
        int[] guess = new Verifier(thresholds).measureParent(MODEL, edit, sentinels()).guess();
        int[] prompt = edit.prompt();
        int[] withTarget = Arrays.copyOf(prompt, prompt.length + edit.targetNew().length);
        System.arraycopy(edit.targetNew(), 0, withTarget, prompt.length, edit.targetNew().length);
        int[] parentAfterTarget = new GreedyGenerator(MODEL).generate(withTarget, thresholds.fluencyTokens());
        assertArrayEquals(Arrays.copyOfRange(parentAfterTarget, prompt.length, prompt.length + thresholds.fluencyTokens()),
                guess);
    }

    @Test
    void overlappedVerificationEqualsVerifyingAfterTheEdit() throws Exception {
        EditCase edit = edit();
        int[] prompt = edit.prompt();
        List<String> sentinels = sentinels();
        GateThresholds thresholds = GateThresholds.defaults();
        EditOptions options = EditOptions.defaults(EditMethods.CLOSED_FORM, MODEL.config().nLayers());

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

    /**
     * The retention gate re-scores edits accepted earlier on the lineage: its numbers equal a direct measurement on each
     * model, an earlier edit this one undoes refuses it (and says how many), and one it leaves alone does not. Here the
     * earlier edits are facts the parent holds: one that installed " Lily" on a near paraphrase of the edit prompt (this
     * edit, which writes " Sue", undoes it) and one that installed " Tim" for a little boy.
     */
    @Test
    void anEditThatUndoesAnEarlierEditOfTheLineageIsRefused() throws Exception {
        EditCase plain = new EditCase(edit().prompt(), edit().targetNew(), edit().targetTrue(), List.of(), List.of());
        EarlierEdit lily = new EarlierEdit(MODEL.tokenizer().encodePrompt("Once upon a time there was a little girl named"),
                MODEL.tokenizer().encodeContinuation(" Lily"), MODEL.tokenizer().encodeContinuation(" Sue"));
        EarlierEdit tim = new EarlierEdit(MODEL.tokenizer().encodePrompt("Once upon a time, there was a little boy named"),
                MODEL.tokenizer().encodeContinuation(" Tim"), MODEL.tokenizer().encodeContinuation(" Sue"));
        GateThresholds thresholds = GateThresholds.defaults();
        EditOptions options = EditOptions.defaults(EditMethods.CLOSED_FORM, MODEL.config().nLayers());

        VerifiedEdit undoes = VerifiedEdit.run(MODEL, plain.withEarlier(List.of(lily, tim)), options, thresholds,
                sentinels());
        VerificationReport r = undoes.report();
        assertEquals(2, r.earlierEdits().size());
        PromptCheck lilyCheck = r.earlierEdits().get(0);
        assertEquals(probability(MODEL, lily.prompt(), lily.targetNew()), lilyCheck.newProbBefore(), 1e-5);
        assertEquals(probability(undoes.edited(), lily.prompt(), lily.targetNew()), lilyCheck.newProb(), 1e-5);
        assertEquals(probability(undoes.edited(), lily.prompt(), lily.targetTrue()), lilyCheck.trueProb(), 1e-5);
        assertTrue(lilyCheck.newProbBefore() > lilyCheck.trueProbBefore() && !lilyCheck.success(),
                "the parent held it, the edit undid it: " + lilyCheck);
        assertTrue(r.earlierEdits().get(1).success(), "the little boy keeps Tim");
        assertEquals(List.of(lilyCheck), r.undoneEarlierEdits());
        assertTrue(r.failedGates().contains(GateResult.Gate.RETENTION), r.gates().toString());
        assertTrue(r.gates().get(4).detail().startsWith("1 of 2 earlier edits"), r.gates().get(4).detail());

        VerificationReport kept = VerifiedEdit.run(MODEL, plain.withEarlier(List.of(tim)), options, thresholds,
                sentinels()).report();
        assertFalse(kept.failedGates().contains(GateResult.Gate.RETENTION), kept.gates().toString());
        assertEquals(1.0, kept.earlierEditRetention().getAsDouble());
        assertTrue(plain.withEarlier(List.of(new EarlierEdit(plain.prompt(), plain.targetTrue(), plain.targetNew())))
                .earlier().isEmpty(), "an earlier edit of the same prompt is restated, not re-scored");
    }

    private static double probability(Model model, int[] prompt, int[] target) {
        return ReferenceMath.teacherForcedProbability(model, prompt, target);
    }

    /**
     * The parent's side is kept per view (its continuation of a prompt, its sentinel rows): a later edit of the same
     * view reads it, and a view with another delta on the same base does not. Each report's parent numbers must equal a
     * direct measurement on its own parent.
     */
    @Test
    void aParentsKeptMeasurementsServeLaterEditsOfThatViewOnly() throws Exception {
        List<String> sentinels = sentinels();
        GateThresholds thresholds = GateThresholds.defaults();
        EditOptions options = EditOptions.defaults(EditMethods.CLOSED_FORM, MODEL.config().nLayers());
        EditCase first = edit();
        EditCase second = new EditCase(first.prompt(), MODEL.tokenizer().encodeContinuation(" Tom"),
                first.targetTrue(), first.paraphrases(), first.neighbours());
        Model otherParent = VerifiedEdit.run(MODEL, first, options, thresholds, sentinels).edited();
        for (Model parent : List.of(MODEL, MODEL, otherParent, otherParent)) {
            VerifiedEdit run = VerifiedEdit.run(parent, second, options, thresholds, sentinels);
            VerificationReport r = run.report();
            assertEquals(greedy(parent, first.prompt(), thresholds.fluencyTokens()), r.fluency().parentText());
            for (int i = 0; i < sentinels.size(); i++) {
                assertEquals(kl(parent, MODEL.tokenizer().encodePrompt(sentinels.get(i)), run.edited()),
                        r.sentinels().get(i).kl(), 1e-5, "sentinel " + i);
            }
        }
        assertNotEquals(greedy(MODEL, first.prompt(), thresholds.fluencyTokens()),
                greedy(otherParent, first.prompt(), thresholds.fluencyTokens()), "the two parents must differ here");
    }

    /** KL(parent ‖ edited) at the prompt's last position, summed over the vocabulary in doubles. */
    private static double kl(int[] prompt, Model edited) {
        return kl(MODEL, prompt, edited);
    }

    private static double kl(Model parent, int[] prompt, Model edited) {
        NextTokenDistribution p = new NextTokenDistribution(ForwardPass.of(parent).lastLogits(prompt));
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
