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
 * The subject-neuron edit on the real stories260K: two units' gate columns, up columns and down rows change (3·d
 * weights each: one unit for the subject opening the text, one for it inside a text); the edit flips its prompt; the
 * engine's coefficient of the plain prompt's unit equals the detector's formula on the unit's input; and both units
 * stay shut on a prompt about another subject.
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
    void twoUnitsSubkeysAndSubvaluesChange() {
        List<WeightDelta.Entry> entries = DELTA.delta().entries();
        assertEquals(6, entries.size());
        int layer = entries.get(0).layer();
        assertTrue(entries.stream().allMatch(e -> e.layer() == layer), entries.toString());
        for (int unit : units()) {
            assertEquals(List.of(Param.FFN_GATE, Param.FFN_UP, Param.FFN_DOWN), entries.stream()
                    .filter(e -> e.index() == unit).map(WeightDelta.Entry::param).sorted().toList());
        }
        assertEquals(2, units().size());
        assertEquals(6L * MODEL.config().dModel(), DELTA.delta().parametersTouched());
    }

    private static List<Integer> units() {
        return DELTA.delta().entries().stream().map(WeightDelta.Entry::index).distinct().toList();
    }

    private static WeightDelta.Entry entry(Param param, int unit) {
        return DELTA.delta().entries().stream().filter(e -> e.param() == param && e.index() == unit).findFirst()
                .orElseThrow();
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
        int layer = DELTA.delta().entries().get(0).layer();
        int[] cut = Arrays.copyOf(EDIT.prompt(), EDIT.subject().last() + 1);
        // the plain prompt's unit: the one that fires most there
        int unit = units().stream().max(java.util.Comparator.comparingDouble(
                u -> coefficient(edited, cut, layer, u, cut.length - 1))).orElseThrow();
        WeightDelta.Entry gate = entry(Param.FFN_GATE, unit);
        WeightDelta.Entry up = entry(Param.FFN_UP, unit);
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
        for (int any : units()) {
            for (int t = 0; t < other.length; t++) {
                double m = coefficient(edited, other, layer, any, t);
                assertTrue(Math.abs(m) < 0.1 * subject, "unit " + any + ", position " + t + " of another subject's "
                        + "prompt: " + m);
            }
        }
    }

    /**
     * A batch writes each fact with its own two units, computed on the same parent and designed with the batch's other
     * subjects among their negatives: the delta has two units per fact, none shared; every fact's prompt gives its new
     * answer on the one edited model; and no fact's units fire for another fact's subject (here three similar
     * subjects, where a detector designed alone is not kept shut for the others).
     */
    @Test
    void aBatchGivesEachFactItsOwnUnitsShutForTheOthersAndEveryPromptFlips() {
        List<String> subjects = List.of("a little girl", "a little boy", "a little bird");
        List<EditCase> facts = subjects.stream().map(SubjectNeuronMethodTest::edit).toList();
        ComputedDelta batch = EditMethods.SUBJECT_NEURON.computeBatchDelta(MODEL, facts, SubjectNeuronOptions.defaults(),
                0);
        assertEquals(3 * 6L * MODEL.config().dModel(), batch.delta().parametersTouched());
        assertEquals(6, batch.delta().entries().stream().map(WeightDelta.Entry::index).distinct().count(),
                "two units per fact, none shared");
        Model edited = MODEL.edited(batch.delta());
        int layer = batch.delta().entries().get(0).layer();
        // fact f takes the (2f+1)-th and (2f+2)-th least used units: each takes the two cheapest the others left
        int[] units = SubjectNeuronMethod.leastUsed(MODEL, layer, 6, java.util.Set.of());
        for (int f = 0; f < facts.size(); f++) {
            EditCase fact = facts.get(f);
            NextTokenDistribution after = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(fact.prompt()));
            assertTrue(after.probability(fact.targetNew()[0]) > after.probability(fact.targetTrue()[0]),
                    subjects.get(f) + ": P(Sue) " + after.probability(fact.targetNew()[0]));
            int[] own = {units[2 * f], units[2 * f + 1]};
            int[] cut = Arrays.copyOf(fact.prompt(), fact.subject().last() + 1);
            double at = Math.max(coefficient(edited, cut, layer, own[0], cut.length - 1),
                    coefficient(edited, cut, layer, own[1], cut.length - 1));
            for (int g = 0; g < facts.size(); g++) {
                if (g == f) {
                    continue;
                }
                int[] other = Arrays.copyOf(facts.get(g).prompt(), facts.get(g).subject().last() + 1);
                for (int unit : own) {
                    double m = coefficient(edited, other, layer, unit, other.length - 1);
                    assertTrue(Math.abs(m) < 0.1 * at, subjects.get(f) + "'s unit " + unit + " fires " + m + " for "
                            + subjects.get(g) + " (" + at + " for its own subject)");
                }
            }
        }
    }

    /** When the preferred layer has fewer free units than a fact needs, its units go to the nearest layer that has. */
    @Test
    void aFullLayerSendsTheFactToTheNearestLayerWithRoom() {
        int layer = 2;
        java.util.Set<WeightDelta.Key> taken = new java.util.HashSet<>();
        for (int j = 0; j < MODEL.config().dFfn() - 1; j++) {
            taken.add(new WeightDelta.Key(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW, j));
        }
        assertEquals(layer, SubjectNeuronMethod.layerWithRoom(MODEL, layer, 1, taken), "one unit left: room for one");
        assertEquals(layer + 1, SubjectNeuronMethod.layerWithRoom(MODEL, layer, 2, taken));
        for (int j = 0; j < MODEL.config().dFfn(); j++) {
            taken.add(new WeightDelta.Key(layer + 1, Param.FFN_DOWN, WeightDelta.Slice.ROW, j));
        }
        assertEquals(layer - 1, SubjectNeuronMethod.layerWithRoom(MODEL, layer, 2, taken));
        int[] chosen = SubjectNeuronMethod.leastUsed(MODEL, layer, 2, taken);
        assertEquals(List.of(MODEL.config().dFfn() - 1), Arrays.stream(chosen).boxed().toList(),
                "only the free unit is offered");
    }

    private static double coefficient(Model model, int[] tokens, int layer, int unit, int position) {
        try (Trace trace = ForwardPass.of(model).trace(PackedSequences.of(List.of(tokens)));
                NDScope scope = new NDScope()) {
            return trace.ffnCoefficients(layer).get(position).toFloatArray()[unit];
        }
    }
}
