package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ROME, MEMIT and AlphaEdit end to end on the real stories260K: each flips its edit; ROME's change is rank one at one
 * layer; AlphaEdit moves the outputs of keys the statistics were measured on far less than MEMIT does with the same
 * keys and targets.
 */
class KeyValueMethodsTest {
    private static final Model MODEL = TestModels.sharedStories260K();
    private static final String SUBJECT = "a little girl";
    private static final String TEMPLATE = "Once upon a time, there was {} named";

    private static EditCase edit() {
        return new EditCase(MODEL.tokenizer().encodePrompt(TEMPLATE.replace("{}", SUBJECT)),
                MODEL.tokenizer().encodeContinuation(" Sue"), MODEL.tokenizer().encodeContinuation(" Lily"), List.of(),
                List.of()).withSubject(MODEL, SUBJECT, TEMPLATE);
    }

    @Test
    void theSubjectSpanEndsAtTheSubjectsLastToken() {
        EditCase e = edit();
        String upToSubject = MODEL.tokenizer().decode(java.util.Arrays.copyOf(e.prompt(), e.subject().last() + 1));
        assertTrue(upToSubject.endsWith("a little girl"), upToSubject);
    }

    /**
     * ROME and MEMIT at their defaults; AlphaEdit with a wider null space (eigenvalues below 10× the mean): on this
     * 260K-parameter model (d_ffn = {@code dFfn}) the default null space is too narrow to carry the edit.
     */
    @Test
    void everyKeyValueMethodFlipsTheEdit() {
        AlphaEditOptions a = AlphaEditOptions.defaults();
        for (MethodOptions options : List.of(RomeOptions.defaults(), MemitOptions.defaults(),
                new AlphaEditOptions(a.layers(), 10, a.l2Weight(), a.target()))) {
            EditMethod<?> method = options.method();
            Editor editor = new Editor(MODEL);
            EditResult result = editor.edit(edit(), EditOptions.defaults(method, MODEL.config().nLayers())
                    .withMethodOptions(options));
            NextTokenDistribution after = new NextTokenDistribution(ForwardPass.of(editor.apply(result))
                    .lastLogits(edit().prompt()));
            assertTrue(after.probability(edit().targetNew()[0]) > after.probability(edit().targetTrue()[0]),
                    method.name() + ": P(Sue) " + after.probability(edit().targetNew()[0]));
            assertTrue(result.units().isEmpty(), "key-value methods take no located units");
        }
    }

    @Test
    void romeChangesOneDownProjectionByARankOneMatrix() {
        ComputedDelta d = EditMethods.ROME.computeDelta(MODEL, edit(), List.of(), RomeOptions.defaults(), 0);
        List<WeightDelta.Entry> entries = d.delta().entries();
        int layer = entries.get(0).layer();
        assertEquals(MODEL.config().dFfn(), entries.size(), "every neuron's subvalue row");
        // a dense delta through the view (EffectiveWeights' S = I path) gives the logits of rewritten weights
        try (Model rewritten = dev.engram.support.RewrittenModels.rewrite(MODEL, d.delta())) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(ForwardPass.of(rewritten).lastLogits(edit().prompt()),
                    ForwardPass.of(MODEL.edited(d.delta())).lastLogits(edit().prompt()), 1e-5f);
        }
        assertTrue(entries.stream().allMatch(e -> e.layer() == layer && e.param() == Param.FFN_DOWN));
        // every row is a multiple of the same Λ: |cos| = 1 between any non-zero row and the largest
        WeightDelta.Entry largest = entries.stream().max(java.util.Comparator.comparingDouble(
                WeightDelta.Entry::changeNorm)).orElseThrow();
        for (WeightDelta.Entry e : entries) {
            if (e.changeNorm() > 1e-6 * largest.changeNorm()) {
                assertEquals(1.0, Math.abs(SubjectPool.cosine(e.change(), largest.change())), 1e-3, "row " + e.index());
            }
        }
    }

    /**
     * The projection's property, with a strict null space (eigenvalues below 1 % of the mean, where the keys the
     * statistics saw have almost nothing): AlphaEdit's update barely reaches them, MEMIT's does.
     */
    @Test
    void alphaEditLeavesPreservedKeysFarMoreAloneThanMemit() {
        MemitOptions memit = MemitOptions.defaults();
        AlphaEditOptions alpha = AlphaEditOptions.defaults();
        AlphaEditOptions sameTarget = new AlphaEditOptions(memit.layers(), 0.01, alpha.l2Weight(), memit.target());
        WeightDelta m = EditMethods.MEMIT.computeDelta(MODEL, edit(), List.of(), memit, 0).delta();
        WeightDelta a = EditMethods.ALPHA_EDIT.computeDelta(MODEL, edit(), List.of(), sameTarget, 0).delta();
        int layer = m.entries().get(0).layer();
        List<int[]> corpus = SampledCorpus.sample(MODEL, 4, 32, 99);
        double memitChange = 0;
        double alphaChange = 0;
        for (int[] text : corpus) {
            try (Trace trace = ForwardPass.of(MODEL).trace(text); NDScope scope = new NDScope()) {
                NDArray k = trace.ffnCoefficients(layer);
                memitChange += outputChange(k, m, layer);
                alphaChange += outputChange(k, a, layer);
            }
        }
        assertTrue(alphaChange < 0.2 * memitChange, "Σ|k₀ᵀΔW| on sampled text: AlphaEdit " + alphaChange
                + ", MEMIT " + memitChange);
    }

    /** Σ_t ‖k_tᵀ ΔW‖ for the delta's rows at {@code layer}. */
    private static double outputChange(NDArray keys, WeightDelta delta, int layer) {
        float[][] k = new float[(int) keys.getShape().get(0)][];
        for (int t = 0; t < k.length; t++) {
            k[t] = keys.get(t).toFloatArray();
        }
        double sum = 0;
        for (float[] kt : k) {
            double[] out = new double[MODEL.config().dModel()];
            for (WeightDelta.Entry e : delta.at(layer, Param.FFN_DOWN, WeightDelta.Slice.ROW)) {
                for (int i = 0; i < out.length; i++) {
                    out[i] += kt[e.index()] * e.changeAt(i);
                }
            }
            double norm = 0;
            for (double x : out) {
                norm += x * x;
            }
            sum += Math.sqrt(norm);
        }
        return sum;
    }
}
