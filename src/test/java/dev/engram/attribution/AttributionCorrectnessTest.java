package dev.engram.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The attribution engine against the literal double-precision reference, on four kinds of model. */
class AttributionCorrectnessTest {

    record Case(String name, Model model, int[] prompt) {
        @Override
        public String toString() {
            return name;
        }
    }

    @TempDir
    static Path checkpoints;

    /**
     * stories260K, and seeded synthetic GPT-2, Llama (GQA) and Gemma (one key/value head, heads wider than d / H)
     * checkpoints written in the HF layout and read back.
     */
    static Stream<Case> models() throws IOException {
        Model stories = TestModels.sharedStories260K();
        Model gpt2 = SyntheticModels.gpt2Checkpoint(checkpoints.resolve("gpt2"), "gpt2-synthetic", 32, 2, 4, 21);
        Model llama = SyntheticModels.llamaCheckpoint(checkpoints.resolve("llama"), "llama-gqa",
                SyntheticModels.llama(48, 3, 6, 2, 211, false), false, 23);
        Model gemma = SyntheticModels.writeAndLoad(checkpoints.resolve("gemma"), SyntheticModels.random(
                "gemma-mqa", SyntheticModels.gemma(48, 3, 4, 1, 16, 211), false, 27, TestModels.root()),
                dev.engram.runtime.load.Dtype.F32, 1, null);
        return Stream.of(
                new Case("stories260K", stories, stories.tokenizer().encodePrompt("Once upon a time, there was a")),
                new Case("gpt2-synthetic", gpt2, gpt2.tokenizer().encodePrompt("The capital of France is")),
                new Case("llama-gqa-synthetic", llama, new int[] {1, 17, 200, 5, 64, 9}),
                new Case("gemma-mqa-synthetic", gemma, new int[] {2, 17, 200, 5, 64, 9}));
    }

    /** The literal reference's Imp for every neuron, for the model's top-1 token at the last position. */
    private static Map<NeuronId, Double> reference(Case c, NormMode mode) {
        try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
            int w = new NextTokenDistribution(trace.lastLogits()).argmax();
            return new LiteralReference(c.model(), trace, trace.lastPosition(), w, mode).allScores();
        }
    }

    private static Map<NeuronId, Double> byId(List<ScoredNeuron> neurons) {
        Map<NeuronId, Double> out = new HashMap<>();
        neurons.forEach(n -> out.put(n.id(), n.score()));
        return out;
    }

    /** Every neuron, fast path (asked for all of them) and exhaustive, within 1e-4 of the literal reference. */
    @ParameterizedTest
    @MethodSource("models")
    void everyNeuronMatchesTheLiteralReference(Case c) {
        Map<NeuronId, Double> reference = reference(c, NormMode.FROZEN);
        int w;
        try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
            w = new NextTokenDistribution(trace.lastLogits()).argmax();
        }
        Attributor attributor = new Attributor(c.model());
        AttributionOptions all = AttributionOptions.valueNeuronsOnly(reference.size(), NormMode.FROZEN);
        StepAttribution fast = attributor.attribute(c.prompt(), null, all).steps().get(0);
        StepAttribution brute = attributor.attribute(c.prompt(), null, all.withExhaustive(true)).steps().get(0);
        assertEquals(w, fast.target());
        assertEquals(reference.size(), fast.neurons());
        assertEquals(reference.size(), fast.valueNeurons().size());
        Map<NeuronId, Double> fastScores = byId(fast.valueNeurons());
        Map<NeuronId, Double> bruteScores = byId(brute.valueNeurons());
        double worst = 0;
        for (Map.Entry<NeuronId, Double> e : reference.entrySet()) {
            worst = Math.max(worst, Math.abs(fastScores.get(e.getKey()) - e.getValue()));
            worst = Math.max(worst, Math.abs(bruteScores.get(e.getKey()) - e.getValue()));
        }
        assertTrue(worst < 1e-4, c.name() + ": worst difference " + worst);
        double spread = reference.values().stream().mapToDouble(Math::abs).max().orElse(0);
        assertTrue(spread > 1e-3, "scores are all ~0; the test would prove nothing");
    }

    /**
     * The fast top-k is the reference's top-k, in the reference's order, while scoring few neurons exactly: in FROZEN
     * mode (first-order bounds) and in EXACT mode (bounds with the moving norm scale).
     */
    @ParameterizedTest
    @MethodSource("models")
    void topKIsRankedExactlyAsTheBruteForceRanksIt(Case c) {
        for (NormMode mode : NormMode.values()) {
            Map<NeuronId, Double> reference = reference(c, mode);
            List<Map.Entry<NeuronId, Double>> expected = new ArrayList<>(reference.entrySet());
            expected.sort(Map.Entry.<NeuronId, Double>comparingByValue(Comparator.reverseOrder()));
            for (int k : new int[] {1, 10, 50}) {
                StepAttribution step = new Attributor(c.model())
                        .attribute(c.prompt(), null, AttributionOptions.defaults(k).withMode(mode)).steps().get(0);
                assertEquals(k, step.valueNeurons().size());
                for (int i = 0; i < k; i++) {
                    NeuronId got = step.valueNeurons().get(i).id();
                    double gotReference = reference.get(got);
                    // same neuron, or a neuron the reference scores equal to within float rounding
                    assertTrue(got.equals(expected.get(i).getKey())
                            || Math.abs(gotReference - expected.get(i).getValue()) < 1e-6,
                            c.name() + " " + mode + " k=" + k + " rank " + i + ": " + got + " " + gotReference + " vs "
                                    + expected.get(i));
                }
                assertTrue(step.evaluated() < step.neurons(), mode + " k=" + k + " scored every neuron exactly");
            }
        }
    }

    /**
     * Ranked among allowed (kind, layer) pairs only, the top k is the reference's ranking with the others left out:
     * FFN neurons outside the last layer, and attention neurons of even layers.
     */
    @ParameterizedTest
    @MethodSource("models")
    void aRankingAmongAllowedKindsAndLayersIsTheFilteredReferenceRanking(Case c) {
        int last = c.model().config().nLayers() - 1;
        java.util.function.BiPredicate<NeuronKind, Integer> allowed =
                (kind, layer) -> kind == NeuronKind.FFN ? layer != last : layer % 2 == 0;
        Map<NeuronId, Double> reference = reference(c, NormMode.FROZEN);
        List<Map.Entry<NeuronId, Double>> expected = new ArrayList<>(reference.entrySet().stream()
                .filter(e -> allowed.test(e.getKey().kind(), e.getKey().layer())).toList());
        expected.sort(Map.Entry.<NeuronId, Double>comparingByValue(Comparator.reverseOrder()));
        int w;
        try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
            w = new NextTokenDistribution(trace.lastLogits()).argmax();
        }
        int k = 20;
        StepAttribution step = new Attributor(c.model()).attributeNextTokens(c.prompt(), new int[] {w},
                AttributionOptions.valueNeuronsOnly(k, NormMode.FROZEN), allowed).get(0);
        assertEquals(k, step.valueNeurons().size());
        for (int i = 0; i < k; i++) {
            NeuronId got = step.valueNeurons().get(i).id();
            assertTrue(allowed.test(got.kind(), got.layer()), c.name() + ": " + got + " is not allowed");
            assertTrue(got.equals(expected.get(i).getKey())
                    || Math.abs(reference.get(got) - expected.get(i).getValue()) < 1e-6,
                    c.name() + " rank " + i + ": " + got + " vs " + expected.get(i));
        }
        assertTrue(reference.entrySet().stream().sorted(Map.Entry.comparingByValue(Comparator.reverseOrder()))
                .limit(k).anyMatch(e -> !allowed.test(e.getKey().kind(), e.getKey().layer())),
                c.name() + ": the unfiltered top " + k + " holds a neuron the filter leaves out");
    }

    /**
     * Several candidate next tokens attributed from one call (one trace, the bases' readout shared) give what
     * attributing each alone gives: value neurons, their scores and the layer scores.
     */
    @ParameterizedTest
    @MethodSource("models")
    void severalNextTokensAtOnceEqualEachAlone(Case c) {
        int[] targets;
        try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
            NextTokenDistribution d = new NextTokenDistribution(trace.lastLogits());
            targets = d.topK(3, id -> "").stream().mapToInt(dev.engram.inference.TokenProbability::id).toArray();
        }
        AttributionOptions options = AttributionOptions.valueNeuronsOnly(15, NormMode.FROZEN);
        List<StepAttribution> together = new Attributor(c.model()).attributeNextTokens(c.prompt(), targets, options);
        for (int i = 0; i < targets.length; i++) {
            StepAttribution alone = new Attributor(c.model())
                    .attribute(c.prompt(), new int[] {targets[i]}, options).steps().get(0);
            assertEquals(targets[i], together.get(i).target());
            assertSameRanking(alone.valueNeurons(), together.get(i).valueNeurons(), c.name() + " target " + i);
            for (int l = 0; l < c.model().config().nLayers(); l++) {
                assertEquals(alone.ffnLayers()[l], together.get(i).ffnLayers()[l], 1e-5, c.name() + " layer " + l);
                assertEquals(alone.attentionLayers()[l], together.get(i).attentionLayers()[l], 1e-5);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void layerScoresTelescopeAndTheEndpointsAreTheReferenceLogProbs(Case c) {
        AttributionResult result = new Attributor(c.model()).attribute(c.prompt(), null, AttributionOptions.defaults(5));
        StepAttribution s = result.steps().get(0);
        double sum = 0;
        for (int l = 0; l < c.model().config().nLayers(); l++) {
            sum += s.attentionLayers()[l] + s.ffnLayers()[l];
        }
        assertEquals(s.finalLogProb() - s.embeddingLogProb(), sum, 1e-4);
        assertEquals(s.gain(), result.totalGain(), 1e-12);
        try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
            LiteralReference ref = new LiteralReference(c.model(), trace, trace.lastPosition(), s.target(),
                    NormMode.FROZEN);
            assertEquals(ref.logProb(ref.residual(c.model().config().nLayers() - 1)), s.finalLogProb(), 1e-4);
            assertEquals(ref.logProb(ref.embedding()), s.embeddingLogProb(), 1e-4);
            if (!c.model().config().family().norm().centres()) {
                // RMSNorm has no bias: the frozen readout of h^L is the model's own prediction
                double model = new NextTokenDistribution(trace.lastLogits()).logProbability(s.target());
                assertEquals(model, s.finalLogProb(), 1e-4);
            }
        }
        for (double[] layer : s.heads()) {
            for (double h : layer) {
                assertTrue(Double.isFinite(h));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void rankingIsDeterministic(Case c) {
        Attributor a = new Attributor(c.model());
        AttributionResult first = a.attribute(c.prompt(), null, AttributionOptions.defaults(20));
        AttributionResult second = a.attribute(c.prompt(), null, AttributionOptions.defaults(20));
        assertEquals(first.steps().get(0).valueNeurons(), second.steps().get(0).valueNeurons());
        assertEquals(first.steps().get(0).query().top(), second.steps().get(0).query().top());
    }

    @ParameterizedTest
    @MethodSource("models")
    void exactModeMatchesTheLiteralReference(Case c) {
        Map<NeuronId, Double> reference = reference(c, NormMode.EXACT);
        StepAttribution s = new Attributor(c.model()).attribute(c.prompt(), null,
                AttributionOptions.defaults(25).withMode(NormMode.EXACT)).steps().get(0);
        for (ScoredNeuron n : s.valueNeurons()) {
            assertEquals(reference.get(n.id()), n.score(), 1e-4, n.id().toString());
        }
        double best = reference.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        assertEquals(best, s.valueNeurons().get(0).score(), 1e-4);
    }

    /** Teacher forcing: target token i is attributed at position |prompt| − 1 + i, each against its own reference. */
    @ParameterizedTest
    @MethodSource("models")
    void multiTokenTargetsAreAttributedTokenByToken(Case c) {
        int[] target = {c.prompt()[1], c.prompt()[2]};
        AttributionResult result = new Attributor(c.model()).attribute(c.prompt(), target, AttributionOptions.defaults(3));
        assertEquals(2, result.steps().size());
        int[] forced = java.util.Arrays.copyOf(c.prompt(), c.prompt().length + 1);
        forced[c.prompt().length] = target[0];
        try (Trace trace = ForwardPass.of(c.model()).trace(forced)) {
            for (int i = 0; i < 2; i++) {
                StepAttribution s = result.steps().get(i);
                assertEquals(c.prompt().length - 1 + i, s.position());
                assertEquals(target[i], s.target());
                LiteralReference ref = new LiteralReference(c.model(), trace, s.position(), target[i], NormMode.FROZEN);
                Map<NeuronId, Double> all = ref.allScores();
                ScoredNeuron top = s.valueNeurons().get(0);
                assertEquals(all.get(top.id()), top.score(), 1e-4);
                assertEquals(all.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow(), top.score(),
                        1e-4);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void badTargetsAndPromptsAreRejectedNamingTheField() {
        Model stories = TestModels.sharedStories260K();
        Attributor a = new Attributor(stories);
        IllegalArgumentException empty = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> a.attribute(new int[] {1, 403}, new int[0], AttributionOptions.defaults(3)));
        assertTrue(empty.getMessage().startsWith("target:"), empty.getMessage());
        IllegalArgumentException noPrompt = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> a.attribute(new int[0], null, AttributionOptions.defaults(3)));
        assertTrue(noPrompt.getMessage().startsWith("prompt:"), noPrompt.getMessage());
        IllegalArgumentException tooLong = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> a.attribute(new int[400], new int[200], AttributionOptions.defaults(3)));
        assertTrue(tooLong.getMessage().startsWith("prompt:"), tooLong.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> AttributionOptions.defaults(0));
    }

    /** Models without biases: GPT-2's biases are residual components too, and are never attributed to neurons. */
    static Stream<Case> biasFreeModels() throws IOException {
        return models().filter(c -> !c.model().config().family().norm().centres());
    }

    /**
     * Query scores of one value neuron over every component of the residual it reads sum to its Imp, when the model
     * has no biases (the components then make up that residual exactly).
     */
    @ParameterizedTest
    @MethodSource("biasFreeModels")
    void queryScoresOfOneValueNeuronSumToItsImportance(Case c) {
        Attributor a = new Attributor(c.model());
        for (boolean ffn : new boolean[] {true, false}) {
            AttributionOptions one = new AttributionOptions(50, AttributionOptions.MAX_TOP, NormMode.FROZEN,
                    ffn ? 1 : 0, ffn ? 0 : 1, QueryKey.GATE, false, false);
            StepAttribution s = a.attribute(c.prompt(), null, one).steps().get(0);
            ScoredNeuron value = s.valueNeurons().stream()
                    .filter(n -> n.id().kind() == (ffn ? NeuronKind.FFN : NeuronKind.ATTENTION))
                    .findFirst().orElseThrow();
            QueryScores q = s.query();
            assertNotNull(q);
            double total = q.embedding();
            for (int l = 0; l < c.model().config().nLayers(); l++) {
                total += q.attentionLayers()[l] + q.ffnLayers()[l];
            }
            assertEquals(value.score(), total, 1e-4 * Math.max(1, Math.abs(value.score())),
                    (ffn ? "FFN " : "attention ") + value.id());
            double listed = q.top().stream().mapToDouble(ScoredNeuron::score).sum() + q.embedding();
            assertEquals(total, listed, 1e-4 * Math.max(1, Math.abs(total)), "every component is listed");
        }
    }

    /** Every head's score against the literal sum of its neurons' vectors, read through the frozen norm. */
    @ParameterizedTest
    @MethodSource("models")
    void headScoresMatchTheLiteralReference(Case c) {
        StepAttribution s = new Attributor(c.model()).attribute(c.prompt(), null, AttributionOptions.defaults(3))
                .steps().get(0);
        try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
            LiteralReference ref = new LiteralReference(c.model(), trace, trace.lastPosition(), s.target(),
                    NormMode.FROZEN);
            double spread = 0;
            for (int l = 0; l < c.model().config().nLayers(); l++) {
                for (int j = 0; j < c.model().config().nHeads(); j++) {
                    double expected = ref.headScore(l, j);
                    assertEquals(expected, s.heads()[l][j], 1e-4, c.name() + " layer " + l + " head " + j);
                    spread = Math.max(spread, Math.abs(expected));
                }
            }
            assertTrue(spread > 1e-3, "head scores are all ~0; the test would prove nothing");
        }
    }

    /**
     * Several queries from one packed forward pass (LocateFacts) give what each gives alone: value and query neurons,
     * head and layer scores, for prompts of different lengths, a two-token target and both norm modes.
     */
    @ParameterizedTest
    @MethodSource("models")
    void packedQueriesGiveWhatEachGivesAlone(Case c) {
        int[] p = c.prompt();
        List<Attributor.Query> queries = List.of(
                new Attributor.Query(p, null, AttributionOptions.defaults(10)),
                // shifted by one token: no query is a prefix of another, so each must read its own rows
                new Attributor.Query(java.util.Arrays.copyOfRange(p, 1, p.length), null,
                        AttributionOptions.defaults(5).withMode(NormMode.EXACT)),
                new Attributor.Query(java.util.Arrays.copyOfRange(p, 1, p.length - 1), new int[] {p[p.length - 1], p[1]},
                        AttributionOptions.defaults(7)));
        Attributor attributor = new Attributor(c.model());
        List<dev.engram.attribution.AttributionResult> packed = attributor.attributeAll(queries);
        for (int q = 0; q < queries.size(); q++) {
            Attributor.Query query = queries.get(q);
            List<StepAttribution> alone = attributor.attribute(query.prompt(), query.target(), query.options()).steps();
            List<StepAttribution> together = packed.get(q).steps();
            assertEquals(alone.size(), together.size());
            for (int i = 0; i < alone.size(); i++) {
                StepAttribution a = alone.get(i);
                StepAttribution b = together.get(i);
                String what = c.name() + " query " + q + " step " + i;
                assertEquals(a.target(), b.target(), what);
                assertSameRanking(a.valueNeurons(), b.valueNeurons(), what + " value neurons");
                assertSameRanking(a.query().top(), b.query().top(), what + " query neurons");
                for (int l = 0; l < a.heads().length; l++) {
                    for (int j = 0; j < a.heads()[l].length; j++) {
                        assertEquals(a.heads()[l][j], b.heads()[l][j], 1e-4, what + " head " + l + "/" + j);
                    }
                    assertEquals(a.ffnLayers()[l], b.ffnLayers()[l], 1e-4, what + " ffn layer " + l);
                }
            }
        }
    }

    /**
     * A lean trace (what prompts longer than {@link Attributor#FULL_TRACE_MAX_TOKENS} get: pattern rows and FFN
     * coefficients recomputed, several positions at once) gives the attribution a full trace gives: value and query
     * neurons, query layers, head and layer scores, with query neurons over both kinds of value neuron.
     */
    @ParameterizedTest
    @MethodSource("models")
    void aLeanTraceGivesWhatAFullTraceGives(Case c) {
        Attributor attributor = new Attributor(c.model());
        // top 200 query neurons: both kinds, and candidates from many layers and positions
        Attributor.Query query = new Attributor.Query(c.prompt(), null,
                new AttributionOptions(10, 200, NormMode.FROZEN, 100, 30, QueryKey.GATE, false, true));
        List<StepAttribution> full;
        List<StepAttribution> lean;
        try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
            full = attributor.on(trace, query).steps();
        }
        try (Trace trace = ForwardPass.of(c.model()).leanTrace(c.prompt())) {
            assertTrue(trace.isLean());
            lean = attributor.on(trace, query).steps();
        }
        StepAttribution a = full.get(0);
        StepAttribution b = lean.get(0);
        String what = c.name() + " lean";
        assertEquals(a.target(), b.target(), what);
        assertSameRanking(a.valueNeurons(), b.valueNeurons(), what + " value neurons");
        assertSameRanking(a.query().top(), b.query().top(), what + " query neurons");
        assertTrue(a.query().top().stream().anyMatch(n -> n.id().kind() == NeuronKind.ATTENTION)
                && a.query().top().stream().anyMatch(n -> n.id().kind() == NeuronKind.FFN),
                what + ": the query top-200 should hold both kinds, or the test proves less than it says");
        for (int l = 0; l < a.heads().length; l++) {
            assertEquals(a.query().ffnLayers()[l], b.query().ffnLayers()[l], 1e-4, what + " query ffn layer " + l);
            assertEquals(a.query().attentionLayers()[l], b.query().attentionLayers()[l], 1e-4,
                    what + " query attention layer " + l);
            for (int j = 0; j < a.heads()[l].length; j++) {
                assertEquals(a.heads()[l][j], b.heads()[l][j], 1e-4, what + " head " + l + "/" + j);
            }
        }
    }

    /**
     * The same ranking up to float rounding: equal scores rank by rank, and every neuron in both lists scored alike
     * (two neurons whose scores tie to 1e-4 may swap places).
     */
    private static void assertSameRanking(List<ScoredNeuron> expected, List<ScoredNeuron> actual, String what) {
        assertEquals(expected.size(), actual.size(), what);
        Map<NeuronId, Double> expectedScores = byId(expected);
        for (int k = 0; k < expected.size(); k++) {
            assertEquals(expected.get(k).score(), actual.get(k).score(), 1e-4, what + " rank " + k);
            Double same = expectedScores.get(actual.get(k).id());
            if (same != null) {
                assertEquals(same, actual.get(k).score(), 1e-4, what + " " + actual.get(k).id());
            }
        }
    }

    /**
     * SmolLM2's 30 layers × 9 heads go through the readout a few layers at a time: the heads of the first and last
     * layer of every group, against the literal reference.
     */
    @org.junit.jupiter.api.Test
    void headScoresOfEveryReadoutGroupMatchTheLiteralReferenceOnSmolLM2() {
        Model model = TestModels.smolLM2();
        int[] prompt = model.tokenizer().encodePrompt("The capital of France is");
        StepAttribution s = new Attributor(model).attribute(prompt, null, AttributionOptions.defaults(3)).steps().get(0);
        try (Trace trace = ForwardPass.of(model).trace(prompt)) {
            LiteralReference ref = new LiteralReference(model, trace, trace.lastPosition(), s.target(), NormMode.FROZEN);
            for (int l : new int[] {0, 6, 7, 13, 14, 20, 21, 27, 28, 29}) {
                for (int j = 0; j < model.config().nHeads(); j++) {
                    assertEquals(ref.headScore(l, j), s.heads()[l][j], 1e-4, "layer " + l + " head " + j);
                }
            }
        }
    }

    /**
     * Per-neuron query scores for the best FFN value neuron and the best attention value neuron, against the literal
     * reference over every component. On GQA models the attention case catches a wrong key/value head (j % n_kv for
     * j / group); on every model the FFN case catches a wrong key (the subvalue for the subkey).
     */
    @ParameterizedTest
    @MethodSource("models")
    void perNeuronQueryScoresMatchTheLiteralReference(Case c) {
        Attributor a = new Attributor(c.model());
        for (NeuronKind kind : NeuronKind.values()) {
            boolean ffn = kind == NeuronKind.FFN;
            AttributionOptions one = new AttributionOptions(200, AttributionOptions.MAX_TOP, NormMode.FROZEN,
                    ffn ? 1 : 0, ffn ? 0 : 1, QueryKey.GATE, false, false);
            StepAttribution s = a.attribute(c.prompt(), null, one).steps().get(0);
            ScoredNeuron value = s.valueNeurons().stream().filter(n -> n.id().kind() == kind).findFirst().orElseThrow();
            Map<NeuronId, Double> reference;
            try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
                reference = new LiteralReference(c.model(), trace, trace.lastPosition(), s.target(), NormMode.FROZEN)
                        .queryScores(value.id(), value.score());
            }
            assertEquals(reference.get(null), s.query().embedding(), 1e-4, c.name() + " " + kind + " embedding");
            double spread = Math.abs(reference.get(null));
            assertEquals(reference.size() - 1, s.query().top().size(), "every component is listed");
            for (ScoredNeuron q : s.query().top()) {
                Double expected = reference.get(q.id());
                assertNotNull(expected, c.name() + " " + kind + ": " + q.id() + " is not a component");
                assertEquals(expected, q.score(), 1e-4 * Math.max(1, Math.abs(expected)), c.name() + " " + kind
                        + " query neuron " + q.id());
                spread = Math.max(spread, Math.abs(expected));
            }
            assertTrue(spread > 1e-4, c.name() + " " + kind + ": query scores are all ~0");
        }
    }

    /**
     * Query scores are linear in the value neurons: over a set of 4 FFN and 4 attention value neurons (several
     * positions, so attention batches mix positions with different numbers of sources), every component's score is
     * the sum of its literal-reference scores for each value neuron of the set, and every component is listed once.
     * Once with the default batches and once with one position per batch. Each listed neuron's coefficient is the
     * trace's own.
     */
    @ParameterizedTest
    @MethodSource("models")
    void queryScoresOfASetAreTheSumsOverItsValueNeurons(Case c) {
        int size = 4;
        AttributionOptions options = new AttributionOptions(AttributionOptions.MAX_TOP, AttributionOptions.MAX_TOP,
                NormMode.FROZEN, size, size, QueryKey.GATE, false, false);
        for (long batch : new long[] {Attributor.QUERY_BATCH_ELEMENTS, 1}) {
            StepAttribution s = new Attributor(c.model(), batch).attribute(c.prompt(), null, options).steps().get(0);
            Map<NeuronId, Double> expected = new HashMap<>();
            java.util.Set<Integer> positions = new java.util.HashSet<>();
            try (Trace trace = ForwardPass.of(c.model()).trace(c.prompt())) {
                LiteralReference reference = new LiteralReference(c.model(), trace, trace.lastPosition(), s.target(),
                        NormMode.FROZEN);
                for (NeuronKind kind : NeuronKind.values()) {
                    s.valueNeurons().stream().filter(n -> n.id().kind() == kind).limit(size).forEach(v -> {
                        positions.add(kind == NeuronKind.FFN ? v.id().position() : v.id().source());
                        reference.queryScores(v.id(), v.score()).forEach((id, q) -> expected.merge(id, q, Double::sum));
                    });
                }
                String what = c.name() + " batch " + batch;
                assertTrue(positions.size() > 1, what + ": the set reads one position only");
                assertEquals(expected.get(null), s.query().embedding(), 1e-4, what + " embedding");
                assertEquals(expected.size() - 1, s.query().top().size(), what + ": every component once");
                for (ScoredNeuron q : s.query().top()) {
                    Double e = expected.get(q.id());
                    assertNotNull(e, what + ": " + q.id() + " is not a component");
                    assertEquals(e, q.score(), 1e-4 * Math.max(1, Math.abs(e)), what + " " + q.id());
                    assertEquals(coefficientInTrace(c.model(), trace, q.id()), q.coefficient(),
                            1e-5 * Math.max(1, Math.abs(q.coefficient())), what + " coefficient of " + q.id());
                }
            }
        }
    }

    /** m^l_p[k] for an FFN neuron, α_{p,s}^j · val_{s,e}^j for an attention neuron, read from a full trace. */
    private static double coefficientInTrace(Model model, Trace trace, NeuronId id) {
        if (id.kind() == NeuronKind.FFN) {
            return trace.ffnCoefficients(id.layer()).getFloat(id.position(), id.index());
        }
        return (double) trace.pattern(id.layer()).getFloat(id.head(), id.position(), id.source())
                * trace.value(id.layer()).getFloat(id.head(), id.source(), id.dim());
    }

    /**
     * LocateFact on an edited view reads the edited subvalues and subkeys: every neuron's score, and the query scores
     * of the best FFN value neuron, equal the literal reference run on a model whose matrices were rewritten.
     */
    @org.junit.jupiter.api.Test
    void anEditedViewIsAttributedWithItsEditedVectors() {
        Model base = TestModels.sharedStories260K();
        int[] prompt = base.tokenizer().encodePrompt("Once upon a time, there was a");
        StepAttribution before = new Attributor(base).attribute(prompt, null, AttributionOptions.defaults(1)).steps()
                .get(0);
        NeuronId top = before.valueNeurons().get(0).id();
        int d = base.config().dModel();
        float[] subvalue = base.weights().vector(new dev.engram.runtime.WeightDelta.Key(top.layer(),
                dev.engram.runtime.Param.FFN_DOWN, dev.engram.runtime.WeightDelta.Slice.ROW, top.index()));
        float[] triple = new float[d];
        float[] gateShift = new float[d];
        for (int i = 0; i < d; i++) {
            triple[i] = 2 * subvalue[i];
            gateShift[i] = 0.05f * ((i % 5) - 2);
        }
        var delta = base.deltaBuilder()
                .add(top.layer(), dev.engram.runtime.Param.FFN_DOWN, dev.engram.runtime.WeightDelta.Slice.ROW,
                        top.index(), triple)
                .add(top.layer(), dev.engram.runtime.Param.FFN_GATE, dev.engram.runtime.WeightDelta.Slice.COLUMN,
                        top.index(), gateShift)
                .build();
        Model edited = base.edited(delta);
        try (Model rewritten = dev.engram.support.RewrittenModels.rewrite(base, delta)) {
            Case onView = new Case("edited view", edited, prompt);
            Case truth = new Case("rewritten", rewritten, prompt);
            Map<NeuronId, Double> reference = reference(truth, NormMode.FROZEN);
            AttributionOptions all = AttributionOptions.valueNeuronsOnly(reference.size(), NormMode.FROZEN);
            Map<NeuronId, Double> scores = byId(new Attributor(edited).attribute(prompt, null, all).steps().get(0)
                    .valueNeurons());
            for (Map.Entry<NeuronId, Double> e : reference.entrySet()) {
                assertEquals(e.getValue(), scores.get(e.getKey()), 1e-4, e.getKey().toString());
            }
            double editedScore = reference.get(top);
            assertTrue(Math.abs(editedScore - before.valueNeurons().get(0).score()) > 1e-2,
                    "the edit did not change the edited neuron's score");
            AttributionOptions one = new AttributionOptions(50, AttributionOptions.MAX_TOP, NormMode.FROZEN, 1, 0,
                    QueryKey.GATE, false, false);
            StepAttribution step = new Attributor(onView.model()).attribute(prompt, null, one).steps().get(0);
            ScoredNeuron value = step.valueNeurons().stream().filter(n -> n.id().kind() == NeuronKind.FFN)
                    .findFirst().orElseThrow();
            assertEquals(top, value.id());
            Map<NeuronId, Double> query;
            try (Trace trace = ForwardPass.of(rewritten).trace(prompt)) {
                query = new LiteralReference(rewritten, trace, trace.lastPosition(), step.target(), NormMode.FROZEN)
                        .queryScores(value.id(), value.score());
            }
            for (ScoredNeuron q : step.query().top()) {
                assertEquals(query.get(q.id()), q.score(), 1e-4 * Math.max(1, Math.abs(q.score())), q.id().toString());
            }
        }
    }
}
