package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.SequenceWitness;
import dev.engram.verification.DerivedNeighbours;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * No edit method ever runs the model on a prompt the edit is verified on: every token sequence any forward pass sees
 * while the delta is computed ({@link SequenceWitness}) is searched for each paraphrase, caller neighbour and derived
 * neighbour and earlier edit of the lineage (without its BOS, so a prompt read behind a prefix is found too). What a method never runs, it cannot
 * train on. Goes red when any of them reaches training (EVALUATION.md lists the mutations tried).
 */
class TrainingSeesNoVerificationPromptTest {
    private static final Model MODEL = TestModels.sharedStories260K();

    static List<EditMethod<?>> methods() {
        return EditMethods.all();
    }

    @ParameterizedTest
    @MethodSource("methods")
    void noVerificationPromptReachesAForwardPass(EditMethod<?> method) {
        String subject = "a little girl";
        String template = "Once upon a time, there was {} named";
        EditCase plain = new EditCase(MODEL.tokenizer().encodePrompt(template.replace("{}", subject)),
                MODEL.tokenizer().encodeContinuation(" Sue"), MODEL.tokenizer().encodeContinuation(" Lily"),
                List.of(MODEL.tokenizer().encodePrompt("One day, a little girl named"),
                        MODEL.tokenizer().encodePrompt("There once was a little girl called")),
                List.of(new Neighbour(MODEL.tokenizer().encodePrompt("The dog wagged its"),
                        MODEL.tokenizer().encodeContinuation(" tail"))));
        EditCase attached = DerivedNeighbours.attach(MODEL, plain.withSubject(MODEL, subject, template), subject,
                template);
        // earlier edits of the lineage, which the retention gate re-scores: one on a prompt that was a contrast prompt
        int[] contrast = attached.contrasts().get(0);
        EditCase edit = attached.withEarlier(List.of(
                new EarlierEdit(contrast, MODEL.tokenizer().encodeContinuation(" Tom"),
                        MODEL.tokenizer().encodeContinuation(" Lily")),
                new EarlierEdit(MODEL.tokenizer().encodePrompt("Tom and his dog went to the"),
                        MODEL.tokenizer().encodeContinuation(" store"), MODEL.tokenizer().encodeContinuation(" park"))));
        assertEquals(2, edit.earlier().size());
        assertTrue(edit.derived().size() >= 8, "derived prompts: " + edit.derived().size());
        List<int[]> heldOut = edit.heldOutPrompts().stream().map(TrainingSeesNoVerificationPromptTest::withoutBos)
                .toList();
        for (int[] p : heldOut) {
            assertFalse(contains(withoutBos(edit.prompt()), p), "a held-out prompt inside the edit prompt proves nothing");
        }
        List<int[]> seen;
        try (SequenceWitness.Recording recording = SequenceWitness.record()) {
            new Editor(MODEL).edit(edit, EditOptions.defaults(method, MODEL.config().nLayers()));
            seen = recording.sequences();
        }
        assertTrue(seen.stream().anyMatch(s -> contains(s, withoutBos(edit.prompt()))), "the witness saw the edit prompt");
        for (int[] sequence : seen) {
            for (int[] p : heldOut) {
                assertFalse(contains(sequence, p), method.name() + " ran the model on the verification prompt "
                        + MODEL.tokenizer().decode(p) + " in " + MODEL.tokenizer().decode(sequence));
            }
        }
    }

    private static int[] withoutBos(int[] prompt) {
        int[] bos = MODEL.tokenizer().encodePrompt("");
        return bos.length > 0 && prompt.length > bos.length && prompt[0] == bos[0]
                ? Arrays.copyOfRange(prompt, 1, prompt.length) : prompt;
    }

    private static boolean contains(int[] sequence, int[] part) {
        List<Integer> s = new ArrayList<>();
        Arrays.stream(sequence).forEach(s::add);
        List<Integer> p = new ArrayList<>();
        Arrays.stream(part).forEach(p::add);
        return java.util.Collections.indexOfSubList(s, p) >= 0;
    }
}
