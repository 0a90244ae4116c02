package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Neighbour;
import dev.engram.inference.GreedyGenerator;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A joint batch decodes every fact's continuations side by side and scores the sentinel prompts once on the edited
 * view: each fact's report must be the one a verifier that shares nothing gives, fact by fact, on the same edited model
 * (the parent's continuations decoded per fact, the edited one with the parent's guess, every prompt scored anew).
 */
class VerifiedBatchTest {
    private static final Model MODEL = TestModels.sharedStories260K();
    private static final String TEMPLATE = "Once upon a time, there was {} named";
    private static final List<String> SENTINELS = List.of("The sun was", "One day, Tom went to the", "She liked to");

    private static EditCase fact(String subject, String targetNew) {
        EditCase plain = new EditCase(MODEL.tokenizer().encodePrompt(TEMPLATE.replace("{}", subject)),
                MODEL.tokenizer().encodeContinuation(targetNew), MODEL.tokenizer().encodeContinuation(" Lily"),
                List.of(MODEL.tokenizer().encodePrompt("Long ago, there was " + subject + " named")),
                List.of(new Neighbour(MODEL.tokenizer().encodePrompt("Once upon a time, there was a dog named"),
                        MODEL.tokenizer().encodeContinuation(" Max"))));
        return plain.withSubject(MODEL, subject, TEMPLATE);
    }

    private static String decoded(Model model, EditCase fact, GateThresholds gate) {
        return Verifier.generated(model, fact.prompt(),
                new GreedyGenerator(model).generate(fact.prompt(), gate.fluencyTokens()));
    }

    @Test
    void eachFactsReportIsTheOneAVerifierSharingNothingGivesOnTheSameModel() {
        List<EditCase> facts = List.of(fact("a little girl", " Sue"), fact("a little boy", " Ben"),
                fact("a little bird", " Tweety"));
        GateThresholds gate = GateThresholds.defaults();
        VerifiedBatch batch = VerifiedBatch.run(MODEL, facts,
                EditOptions.defaults(EditMethods.SUBJECT_NEURON, MODEL.config().nLayers()),
                Collections.nCopies(facts.size(), gate), SENTINELS);
        boolean anEditedTextDiffers = false;
        for (int i = 0; i < facts.size(); i++) {
            VerificationReport joint = batch.reports().get(i);
            VerificationReport alone = new Verifier(gate, VerificationMemo.empty(1)).verify(MODEL, batch.edited(),
                    facts.get(i), SENTINELS);
            String label = "fact " + i;
            assertEquals(alone.fluency().parentText(), joint.fluency().parentText(), label + ": parent's continuation");
            assertEquals(alone.fluency().editedText(), joint.fluency().editedText(), label + ": edited continuation");
            // and each is the plain greedy decode of that prompt on that model, one token after another
            assertEquals(decoded(MODEL, facts.get(i), gate), joint.fluency().parentText(), label);
            assertEquals(decoded(batch.edited(), facts.get(i), gate), joint.fluency().editedText(), label);
            anEditedTextDiffers |= !joint.fluency().editedText().equals(joint.fluency().parentText());
            assertEquals(alone.efficacy().newProb(), joint.efficacy().newProb(), 1e-6, label + ": P(new)");
            assertEquals(alone.efficacy().trueProb(), joint.efficacy().trueProb(), 1e-6, label + ": P(true)");
            assertEquals(alone.neighbours().get(0).kl(), joint.neighbours().get(0).kl(), 1e-5, label + ": neighbour KL");
            assertEquals(SENTINELS.size(), joint.sentinels().size());
            for (int s = 0; s < SENTINELS.size(); s++) {
                assertEquals(alone.sentinels().get(s).kl(), joint.sentinels().get(s).kl(), 1e-5,
                        label + ": sentinel " + s + " KL");
                assertEquals(alone.sentinels().get(s).editedTop1(), joint.sentinels().get(s).editedTop1());
            }
            assertEquals(alone.gates().stream().map(GateResult::passed).toList(),
                    joint.gates().stream().map(GateResult::passed).toList(), label + ": " + joint.gates());
        }
        // the check can tell the two views' continuations apart
        assertTrue(anEditedTextDiffers, "no edit changed its continuation");
    }
}
