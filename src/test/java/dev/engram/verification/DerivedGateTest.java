package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.editing.EditCase;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.Editor;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gate finds leaks by itself on SmolLM2: with no neighbours given, the README's France → Rome and the Louvre → Rome
 * are refused for specificity whenever another subject follows the edit (Spain's capital, the Eiffel Tower), with the
 * derived neighbours that show it in the report.
 */
class DerivedGateTest {

    static List<EditMethod<?>> methods() {
        return List.of(EditMethods.LEARNED, EditMethods.CLOSED_FORM, EditMethods.ROME);
    }

    @ParameterizedTest
    @MethodSource("methods")
    void theReadmeEditDoesNotPassWhileSpainSaysRome(EditMethod<?> method) {
        Model model = TestModels.smolLM2();
        Outcome o = verify(model, method, "France", "The capital of {} is", " Rome", " Paris");
        VerificationReport report = o.report();
        Model edited = o.edited();
        assertTrue(report.relationNeighbours().size() >= 8, "relation neighbours found: " + report.relationNeighbours().size());
        boolean spainFollows = top1(edited, "The capital of Spain is").equals(" Rome");
        if (spainFollows) {
            assertFalse(report.passed(), "Spain says Rome, yet the gate passed: " + report.gates());
            assertTrue(report.failedGates().contains(GateResult.Gate.SPECIFICITY));
        }
        System.out.printf("%s France->Rome: passed %s, Spain says %s; %s%n", method.name(), report.passed(),
                top1(edited, "The capital of Spain is"), report.gates());
    }

    @ParameterizedTest
    @MethodSource("methods")
    void theLouvreEditDoesNotPassWhileTheEiffelTowerFollows(EditMethod<?> method) {
        Model model = TestModels.smolLM2();
        String template = "{} is a landmark in the city of";
        Outcome o = verify(model, method, "The Louvre", template, " Rome", " Paris");
        VerificationReport report = o.report();
        Model edited = o.edited();
        assertTrue(report.sameObject().size() >= 8, "same-object neighbours found: " + report.sameObject().size());
        double[] eiffel = probabilities(model, edited, "The Eiffel Tower is a landmark in the city of");
        if (eiffel[0] > eiffel[1]) {
            assertFalse(report.passed(), "the Eiffel Tower follows the Louvre to Rome, yet the gate passed");
            assertTrue(report.failedGates().contains(GateResult.Gate.SPECIFICITY));
        }
        System.out.printf("%s Louvre->Rome: passed %s, Eiffel P(Rome) %.3f P(Paris) %.3f; %s%n", method.name(),
                report.passed(), eiffel[0], eiffel[1], report.gates());
    }

    private static EditCase edit(Model model, String subject, String template, String targetNew, String targetTrue) {
        EditCase plain = new EditCase(model.tokenizer().encodePrompt(template.replace("{}", subject)),
                model.tokenizer().encodeContinuation(targetNew), model.tokenizer().encodeContinuation(targetTrue),
                List.of(), List.of()).withSubject(model, subject, template);
        return DerivedNeighbours.attach(model, plain, subject, template);
    }

    private record Outcome(Model edited, VerificationReport report) {
    }

    private static Outcome verify(Model model, EditMethod<?> method, String subject, String template,
            String targetNew, String targetTrue) {
        EditCase edit = edit(model, subject, template, targetNew, targetTrue);
        Editor editor = new Editor(model);
        Model edited = editor.apply(editor.edit(edit, EditOptions.defaults(method, model.config().nLayers())));
        return new Outcome(edited, new Verifier(GateThresholds.defaults(), VerificationMemo.shared())
                .verify(model, edited, edit, List.of()));
    }

    private static String top1(Model model, String prompt) {
        int id = new NextTokenDistribution(ForwardPass.of(model).lastLogits(model.tokenizer().encodePrompt(prompt)))
                .argmax();
        return model.tokenizer().tokenString(id);
    }

    /** P(" Rome"), P(" Paris") as next tokens on the edited model. */
    private static double[] probabilities(Model parent, Model edited, String prompt) {
        NextTokenDistribution d = new NextTokenDistribution(ForwardPass.of(edited)
                .lastLogits(parent.tokenizer().encodePrompt(prompt)));
        return new double[] {d.probability(parent.tokenizer().encodeContinuation(" Rome")[0]),
                d.probability(parent.tokenizer().encodeContinuation(" Paris")[0])};
    }
}
