package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDScope;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.Trace;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The subject-neuron edit on the real stories260K: one unit's gate column, up column and down row change (3·d
 * weights); the edit flips its prompt; the engine's coefficient of that unit equals the detector's formula on the
 * unit's input; and the unit stays shut on a prompt about another subject.
 */
class SubjectNeuronMethodTest {
    private static final Model MODEL = TestModels.sharedStories260K();
    private static final String TEMPLATE = "Once upon a time, there was {} named";

    private static EditCase edit(String subject) {
        return new EditCase(MODEL.tokenizer().encodePrompt(TEMPLATE.replace("{}", subject)),
                MODEL.tokenizer().encodeContinuation(" Sue"), MODEL.tokenizer().encodeContinuation(" Lily"), List.of(),
                List.of()).withSubject(MODEL, subject, TEMPLATE);
    }

    private static final EditCase EDIT = edit("a little girl");
    private static final ComputedDelta DELTA = EditMethods.SUBJECT_NEURON.computeDelta(MODEL, EDIT, List.of(),
            SubjectNeuronOptions.defaults(), 0);

    @Test
    void oneUnitsSubkeyAndSubvalueChange() {
        List<WeightDelta.Entry> entries = DELTA.delta().entries();
        assertEquals(3, entries.size());
        int layer = entries.get(0).layer();
        int unit = entries.get(0).index();
        assertTrue(entries.stream().allMatch(e -> e.layer() == layer && e.index() == unit), entries.toString());
        assertEquals(List.of(Param.FFN_GATE, Param.FFN_UP, Param.FFN_DOWN),
                entries.stream().map(WeightDelta.Entry::param).sorted().toList());
        assertEquals(3L * MODEL.config().dModel(), DELTA.delta().parametersTouched());
    }

    @Test
    void theEditFlipsItsPrompt() {
        NextTokenDistribution after = new NextTokenDistribution(ForwardPass.of(MODEL.edited(DELTA.delta()))
                .lastLogits(EDIT.prompt()));
        assertTrue(after.probability(EDIT.targetNew()[0]) > after.probability(EDIT.targetTrue()[0]),
                "P(Sue) " + after.probability(EDIT.targetNew()[0]));
    }

    @Test
    void theUnitFiresForTheSubjectAsTheFormulaSaysAndStaysShutForAnotherSubject() {
        Model edited = MODEL.edited(DELTA.delta());
        WeightDelta.Entry gate = DELTA.delta().entries().stream().filter(e -> e.param() == Param.FFN_GATE).findFirst()
                .orElseThrow();
        WeightDelta.Entry up = DELTA.delta().entries().stream().filter(e -> e.param() == Param.FFN_UP).findFirst()
                .orElseThrow();
        int layer = gate.layer();
        int unit = gate.index();
        int[] cut = Arrays.copyOf(EDIT.prompt(), EDIT.subject().last() + 1);
        double subject = coefficient(edited, cut, layer, unit, cut.length - 1);
        double[] x = SubjectDetector.inputs(edited, List.of(cut), layer, true).get(0);
        // m_j = silu(g_j·x)(u_j·x), written out
        double z = 0;
        double u = 0;
        for (int i = 0; i < x.length; i++) {
            z += gate.updated()[i] * x[i];
            u += up.updated()[i] * x[i];
        }
        assertEquals(z / (1 + Math.exp(-z)) * u, subject, 1e-3 * Math.max(1, Math.abs(subject)));
        assertTrue(subject > 1, "the unit fires for the subject: " + subject);
        int[] other = MODEL.tokenizer().encodePrompt(TEMPLATE.replace("{}", "a big brown dog"));
        for (int t = 0; t < other.length; t++) {
            double m = coefficient(edited, other, layer, unit, t);
            assertTrue(Math.abs(m) < 0.1 * subject, "position " + t + " of another subject's prompt: " + m);
        }
    }

    private static double coefficient(Model model, int[] tokens, int layer, int unit, int position) {
        try (Trace trace = ForwardPass.of(model).trace(PackedSequences.of(List.of(tokens)));
                NDScope scope = new NDScope()) {
            return trace.ffnCoefficients(layer).get(position).toFloatArray()[unit];
        }
    }
}
