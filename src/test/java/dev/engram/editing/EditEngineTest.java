package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.attribution.NeuronKind;
import dev.engram.attribution.NormMode;
import dev.engram.attribution.ScoredNeuron;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.RewrittenModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The edit engine on the real stories260K: selection, both methods, determinism, and edited views. */
class EditEngineTest {
    private static final Model MODEL = TestModels.sharedStories260K();
    private static final int[] PROMPT = MODEL.tokenizer().encodePrompt("Once upon a time, there was a little girl named");
    private static final int LILY = MODEL.tokenizer().encodeContinuation(" Lily")[0];
    private static final int SUE = MODEL.tokenizer().encodeContinuation(" Sue")[0];
    private static final EditCase EDIT = new EditCase(PROMPT, new int[] {SUE}, new int[] {LILY},
            List.of(MODEL.tokenizer().encodePrompt("One day, a little girl named")), List.of());

    private static EditOptions options(EditMethod<?> method) {
        return EditOptions.defaults(method, MODEL.config().nLayers());
    }

    @Test
    void selectionSplitsTheBudgetBetweenTrueCarriersAndNewPromoters() {
        EditOptions o = options(EditMethods.LEARNED).withBudget(6);
        List<EditUnit> units = new NeuronSelector(MODEL).select(PROMPT, LILY, SUE, o);
        assertEquals(6, units.size());
        List<ScoredNeuron> forTrue = new Attributor(MODEL).attribute(PROMPT, new int[] {LILY},
                AttributionOptions.valueNeuronsOnly(50, NormMode.FROZEN)).steps().get(0).valueNeurons().stream()
                .filter(n -> n.id().kind() == NeuronKind.FFN).toList();
        for (int i = 0; i < 3; i++) {
            assertEquals(EditUnit.Reason.CARRIES_TRUE, units.get(i).reason());
            assertEquals(forTrue.get(i).id().layer(), units.get(i).layer());
            assertEquals(forTrue.get(i).id().index(), units.get(i).row());
            assertEquals(forTrue.get(i).score(), units.get(i).score(), 1e-9);
        }
        for (int i = 3; i < 6; i++) {
            assertEquals(EditUnit.Reason.PROMOTES_NEW, units.get(i).reason());
        }
        assertEquals(6, units.stream().map(u -> u.layer() + "/" + u.row()).distinct().count(), "no vector twice");
        assertTrue(units.stream().allMatch(u -> u.kind() == NeuronKind.FFN));
    }

    @Test
    void selectionHonoursKindsAndExcludedLayers() {
        EditOptions attentionOnly = new EditOptions(new LearnedOptions(5, 0.01, 0.9, 1, 10, 0.01, 10, 0), 8,
                EnumSet.of(NeuronKind.ATTENTION), Set.of(4), 0);
        List<EditUnit> units = new NeuronSelector(MODEL).select(PROMPT, LILY, SUE, attentionOnly);
        assertEquals(8, units.size());
        for (EditUnit u : units) {
            assertEquals(NeuronKind.ATTENTION, u.kind());
            assertNotEquals(4, u.layer());
            assertTrue(u.row() < MODEL.config().qDim());
        }
    }

    @Test
    void anEditWithEveryLayerExcludedNamesTheOptions() {
        Set<Integer> every = new java.util.HashSet<>();
        for (int l = 0; l < MODEL.config().nLayers(); l++) {
            every.add(l);
        }
        EditOptions none = new EditOptions(new LearnedOptions(5, 0.01, 0.9, 1, 10, 0.01, 10, 0), 4,
                EnumSet.of(NeuronKind.FFN), every, 0);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Editor(MODEL).edit(EDIT, none));
        assertTrue(e.getMessage().startsWith("options:"), e.getMessage());
    }

    @Test
    void theSameSeedGivesTheSameDelta() {
        EditResult a = new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED).withSeed(7));
        EditResult b = new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED).withSeed(7));
        assertEquals(a.delta().hash(), b.delta().hash());
        assertEquals(a.delta(), b.delta());
        EditResult c = new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED).withSeed(8));
        assertNotEquals(a.delta().hash(), c.delta().hash(), "another seed trains behind other prefixes");
    }

    /**
     * Learned edits on fresh threads (where PyTorch's grad mode starts on), two at once: each gives the delta a lone
     * edit gives, and nothing fails although the engine allows one gradient collector at a time.
     */
    @Test
    void concurrentLearnedEditsOnWorkerThreadsGiveTheSameDelta() throws Exception {
        String alone = new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED)).delta().hash();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            var first = pool.submit(() -> new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED)).delta().hash());
            var second = pool.submit(() -> new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED)).delta().hash());
            assertEquals(alone, first.get());
            assertEquals(alone, second.get());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Garbage collection while a learned edit trains must not change it: autograd keeps operands for the backward
     * pass, and an operand made from Java memory that a collected buffer held would be read after it was freed (this
     * gave NaN gradients). A background thread collects and reuses freed direct memory throughout.
     */
    @Test
    void garbageCollectionDuringTrainingChangesNothing() throws Exception {
        String quiet = new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED)).delta().hash();
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread churn = new Thread(() -> {
            while (running.get()) {
                System.gc();
                for (int i = 0; i < 64; i++) {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(1 << 16);
                    for (int j = 0; j < b.capacity(); j += 4) {
                        b.putFloat(j, Float.NaN);
                    }
                }
            }
        });
        churn.start();
        try {
            for (int round = 0; round < 5; round++) {
                assertEquals(quiet, new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED)).delta().hash(),
                        "round " + round);
            }
        } finally {
            running.set(false);
            churn.join();
        }
    }

    /**
     * Both located-unit methods flip the prompt, touch only the budgeted vectors, and carry the originals they replace
     * (the key-value methods rewrite whole matrices: KeyValueMethodsTest).
     */
    @Test
    void bothMethodsFlipThePromptWithSparseDeltas() {
        for (EditMethod<?> method : EditMethods.all().stream().filter(EditMethod::editsLocatedUnits).toList()) {
            EditResult r = new Editor(MODEL).edit(EDIT, options(method));
            Model edited = new Editor(MODEL).apply(r);
            NextTokenDistribution after = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(PROMPT));
            assertEquals(SUE, after.argmax(), method + ": top-1 after the edit");
            assertEquals(10, r.delta().entries().size());
            assertEquals(10L * MODEL.config().dModel(), r.delta().parametersTouched());
            for (WeightDelta.Entry e : r.delta().entries()) {
                assertArrayEquals(MODEL.weights().vector(e.key()), e.original(), 0f);
                assertArrayEquals(e.updated(), edited.weights().vector(e.key()), 1e-6f);
            }
            assertEquals(method, r.method());
        }
    }

    /** Acceptance: the edit through the effective-weights view gives the logits of rewritten weights (1e-5). */
    @Test
    void anEditThroughTheViewEqualsRewrittenWeights() {
        EditResult r = new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED));
        float[] view = ForwardPass.of(new Editor(MODEL).apply(r)).lastLogits(PROMPT);
        try (Model rewritten = RewrittenModels.rewrite(MODEL, r.delta())) {
            assertArrayEquals(ForwardPass.of(rewritten).lastLogits(PROMPT), view, 1e-5f);
        }
    }

    /** LocateFact on the edited view finds the edited neurons, now with higher scores for the new target. */
    @Test
    void locatingOnTheEditedViewShowsTheEditedNeuronsWithTheirNewScores() {
        EditResult r = new Editor(MODEL).edit(EDIT, options(EditMethods.LEARNED));
        Model edited = new Editor(MODEL).apply(r);
        AttributionOptions all = AttributionOptions.valueNeuronsOnly(AttributionOptions.MAX_TOP, NormMode.FROZEN);
        Map<String, Double> before = ffnScores(MODEL, all);
        Map<String, Double> after = ffnScores(edited, all);
        List<ScoredNeuron> top = new Attributor(edited).attribute(PROMPT, new int[] {SUE},
                AttributionOptions.valueNeuronsOnly(10, NormMode.FROZEN)).steps().get(0).valueNeurons();
        Set<String> topIds = top.stream().filter(n -> n.id().kind() == NeuronKind.FFN)
                .map(n -> n.id().layer() + "/" + n.id().index()).collect(Collectors.toSet());
        int inTop = 0;
        double gained = 0;
        for (EditUnit u : r.units()) {
            String id = u.layer() + "/" + u.row();
            gained += after.get(id) - before.get(id);
            inTop += topIds.contains(id) ? 1 : 0;
        }
        assertTrue(gained > 1, "the edited neurons' summed score for the new target rose by only " + gained);
        assertTrue(inTop >= 3, "only " + inTop + " edited neurons are among the top 10 for the new target");
    }

    private static Map<String, Double> ffnScores(Model model, AttributionOptions options) {
        return new Attributor(model).attribute(PROMPT, new int[] {SUE}, options.withExhaustive(true)).steps().get(0)
                .valueNeurons().stream().filter(n -> n.id().kind() == NeuronKind.FFN)
                .collect(Collectors.toMap(n -> n.id().layer() + "/" + n.id().index(), ScoredNeuron::score));
    }

    /**
     * The closed form against its definition, recomputed here in doubles: one solve makes the frozen-readout margin
     * move by exactly Δ = margin − current, with the smallest norm any change of these vectors can have,
     * ‖δ‖ = |Δ| / ‖a‖ where a = (c_j g)_j, and every δ_j parallel to g.
     */
    @Test
    void oneClosedFormSolveIsTheMinimumNormSolution() {
        EditOptions options = options(EditMethods.CLOSED_FORM);
        ClosedFormOptions once = ClosedFormOptions.defaults().withSolves(1);
        List<EditUnit> units = new NeuronSelector(MODEL).select(PROMPT, LILY, SUE, options);
        ComputedDelta solved = new ClosedFormEditor(MODEL).solve(EDIT, units, once);
        int d = MODEL.config().dModel();
        int t = PROMPT.length - 1;
        double[] g = new double[d];
        double[] c = new double[units.size()];
        double margin;
        try (Trace trace = ForwardPass.of(MODEL).trace(PROMPT)) {
            float[] h = trace.residPost(MODEL.config().nLayers() - 1).get(t).toFloatArray();
            double ms = 0;
            for (float x : h) {
                ms += (double) x * x / d;
            }
            double r = Math.sqrt(ms + MODEL.config().normEps());
            float[] wu = MODEL.weights().base().unembedding().toFloatArray();
            float[] gamma = MODEL.weights().base().finalNormWeight().toFloatArray();
            int vocab = MODEL.config().vocabSize();
            for (int i = 0; i < d; i++) {
                g[i] = gamma[i] * ((double) wu[i * vocab + SUE] - wu[i * vocab + LILY]) / r;
            }
            for (int j = 0; j < units.size(); j++) {
                c[j] = trace.ffnCoefficients(units.get(j).layer()).getFloat(t, units.get(j).row());
            }
            NextTokenDistribution p = new NextTokenDistribution(trace.lastLogits());
            margin = p.logProbability(SUE) - p.logProbability(LILY);
        }
        double shift = once.margin() - margin;
        double moved = 0;
        double norm2 = 0;
        double a2 = 0;
        double g2 = 0;
        for (double x : g) {
            g2 += x * x;
        }
        for (int j = 0; j < units.size(); j++) {
            EditUnit u = units.get(j);
            float[] delta = solved.delta().get(new WeightDelta.Key(u.layer(), u.matrix(), WeightDelta.Slice.ROW,
                    u.row())).change();
            double dot = 0;
            double dn = 0;
            for (int i = 0; i < d; i++) {
                dot += delta[i] * g[i];
                dn += (double) delta[i] * delta[i];
            }
            moved += c[j] * dot;
            norm2 += dn;
            a2 += c[j] * c[j] * g2;
            assertEquals(1.0, Math.abs(dot) / Math.sqrt(dn * g2), 1e-4, "δ_" + j + " is parallel to g");
        }
        assertEquals(shift, moved, 1e-3 * Math.abs(shift), "direct-path margin shift");
        assertEquals(Math.abs(shift) / Math.sqrt(a2), Math.sqrt(norm2), 1e-3 * Math.sqrt(norm2), "minimum norm");
    }

    @Test
    void trainingPromptsAreThePromptAndItsPrefixedCopies() {
        List<int[]> training = TrainingPrompts.of(MODEL, PROMPT, 4, 3);
        assertEquals(5, training.size());
        assertArrayEquals(PROMPT, training.get(0));
        String prefixed = MODEL.tokenizer().decode(training.get(1));
        assertTrue(prefixed.endsWith("Once upon a time, there was a little girl named"), prefixed);
    }

    /**
     * ROME-style context templates: generated once per base model, count and seed, by the unedited model, and reused by
     * later edits of every view.
     */
    @Test
    void prefixesAreGeneratedOncePerBaseCountAndSeed() {
        List<String> first = TrainingPrompts.prefixes(MODEL, 3, 11);
        assertEquals(TrainingPrompts.generatePrefixes(MODEL, 3, 11), first, "the kept prefixes are the generated ones");
        assertEquals(3, first.size());
        assertTrue(first.get(0) == TrainingPrompts.prefixes(MODEL, 3, 11).get(0)
                && first == TrainingPrompts.prefixes(MODEL, 3, 11), "a later edit of the same view reuses them");
        assertTrue(first != TrainingPrompts.prefixes(MODEL, 3, 12), "another seed gets its own");
        assertTrue(first != TrainingPrompts.prefixes(MODEL, 2, 11), "another count gets its own");
        float[] change = new float[MODEL.config().dModel()];
        java.util.Arrays.fill(change, 0.5f);
        Model edited = MODEL.edited(MODEL.deltaBuilder().add(0, dev.engram.runtime.Param.FFN_DOWN,
                WeightDelta.Slice.ROW, 0, change).build());
        assertTrue(first == TrainingPrompts.prefixes(edited, 3, 11), "an edited view reuses the base model's");
        assertNotEquals(first, TrainingPrompts.generatePrefixes(edited, 3, 11),
                "the edit changes what its view would sample: the test would not tell the two apart otherwise");
    }

    private static List<Integer> toList(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    /**
     * A learned subvalue moves in proportion to its coefficient at the prompt (δ_j = s_j·θ_j, s_j = |c_j| / max|c|):
     * next to the selected neurons, the neuron of the same layer that is quietest at the prompt may change by at most
     * s_j times what Adam can move one entry (lr per step, with slack for m̂ / sqrt(v̂) overshooting 1).
     */
    @Test
    void aLearnedSubvalueMovesInProportionToItsCoefficientAtThePrompt() {
        EditOptions o = options(EditMethods.LEARNED).withBudget(4);
        List<EditUnit> units = new java.util.ArrayList<>(new NeuronSelector(MODEL).select(PROMPT, LILY, SUE, o));
        int layer = units.get(0).layer();
        int t = PROMPT.length - 1;
        float[] coefficients;
        try (Trace trace = ForwardPass.of(MODEL).trace(PROMPT)) {
            coefficients = trace.ffnCoefficients(layer).get(t).toFloatArray();
        }
        int quietest = 0;
        for (int k = 0; k < coefficients.length; k++) {
            if (Math.abs(coefficients[k]) < Math.abs(coefficients[quietest])) {
                quietest = k;
            }
        }
        units.add(new EditUnit(NeuronKind.FFN, layer, quietest, EditUnit.Reason.PROMOTES_NEW, 0));
        double[] c = new double[units.size()];
        double largest = 0;
        try (Trace trace = ForwardPass.of(MODEL).trace(PROMPT)) {
            for (int j = 0; j < units.size(); j++) {
                c[j] = trace.ffnCoefficients(units.get(j).layer()).getFloat(t, units.get(j).row());
                largest = Math.max(largest, Math.abs(c[j]));
            }
        }
        LearnedOptions learning = (LearnedOptions) o.methodOptions();
        ComputedDelta learned = new LearnedEditor(MODEL).train(EDIT, units, learning, o.seed());
        assertTrue(learned.steps() >= 2, "the edit must train for a few steps for the bound to mean anything");
        double bound = 3 * learning.learningRate() * (learned.steps() + 1);
        WeightDelta.Entry quiet = learned.delta().get(new WeightDelta.Key(layer, units.get(0).matrix(),
                WeightDelta.Slice.ROW, quietest));
        double largestEntry = 0;
        for (int i = 0; i < quiet.length(); i++) {
            largestEntry = Math.max(largestEntry, Math.abs(quiet.changeAt(i)));
        }
        double scale = Math.abs(c[c.length - 1]) / largest;
        assertTrue(scale < 0.05, "the quietest neuron must be quiet: s = " + scale);
        assertTrue(largestEntry <= scale * bound, "the quiet neuron moved by " + largestEntry + ", more than s·bound = "
                + scale * bound);
        WeightDelta.Entry loud = learned.delta().get(new WeightDelta.Key(units.get(0).layer(), units.get(0).matrix(),
                WeightDelta.Slice.ROW, units.get(0).row()));
        assertTrue(loud.changeNorm() > 10 * quiet.changeNorm(), "the selected neuron moved by " + loud.changeNorm()
                + ", the quiet one by " + quiet.changeNorm());
    }
}
