package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.verification.Verifier;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The learned edit's contrast term on SmolLM2: the United Kingdom → Berlin (an edit that, without the term, spilt onto
 * other countries' capital prompts: EVALUATION.md before issue 27, in git history) learned with and without it. With it, the edited model's
 * next-token distribution at the contrast prompts (the template filled with other subjects) stays much closer to the
 * parent's, and the edit still passes its own prompt.
 */
class ContrastTrainingTest {

    @Test
    void theContrastTermKeepsOtherSubjectsOfTheTemplateWhereTheyWere() {
        Model model = TestModels.smolLM2();
        EditCase edit = new EditCase(model.tokenizer().encodePrompt("The capital of the United Kingdom is"),
                model.tokenizer().encodeContinuation(" Berlin"), model.tokenizer().encodeContinuation(" London"),
                List.of(), List.of()).withSubject(model, "the United Kingdom", "The capital of {} is");
        assertEquals(ContrastPrompts.COUNT, edit.contrasts().size());
        EditOptions defaults = EditOptions.defaults(EditMethods.LEARNED, model.config().nLayers());
        double with = meanContrastKl(model, edit, defaults);
        double without = meanContrastKl(model, edit, defaults.withMethodOptions(
                LearnedOptions.defaults().withContrastWeight(0)));
        assertTrue(with < 0.5 * without, "mean KL at the contrasts: " + with + " with the term, " + without + " without");
    }

    /** Mean KL(parent ‖ edited) at the end of the contrast prompts, after checking that the edit took. */
    private static double meanContrastKl(Model model, EditCase edit, EditOptions options) {
        Editor editor = new Editor(model);
        Model edited = editor.apply(editor.edit(edit, options));
        NextTokenDistribution after = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(edit.prompt()));
        assertEquals(edit.targetNew()[0], after.argmax(), "the edit took");
        double sum = 0;
        for (int[] contrast : edit.contrasts()) {
            sum += Verifier.kl(new NextTokenDistribution(ForwardPass.of(model).lastLogits(contrast)),
                    new NextTokenDistribution(ForwardPass.of(edited).lastLogits(contrast)));
        }
        return sum / edit.contrasts().size();
    }
}
