package dev.engram.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.attribution.NeuronId;
import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The faithfulness evaluation on the real stories260K and its TinyStories-style probes: every baseline's top-10 equals
 * a brute-force reference in doubles, and a small run of the paper's experiment shows what the paper claims of
 * ablations (the chosen neurons matter more than random ones).
 */
class FaithfulnessTest {
    private static final Model MODEL = TestModels.sharedStories260K();
    private static ProbeFilter.Filtered filtered;
    private static SubvalueProjections projections;

    @BeforeAll
    static void probes() {
        filtered = ProbeFilter.apply(MODEL, KnowledgeSets.load(KnowledgeSets.STORY_TYPES));
        projections = SubvalueProjections.compute(MODEL,
                filtered.probes().stream().mapToInt(ProbeFilter.Probe::gold).distinct().toArray());
    }

    @Test
    void theFilterKeepsProbesWhoseGoldLeadsItsType() {
        assertTrue(filtered.probes().size() >= 15, "kept " + filtered.probes().size());
        for (ProbeFilter.Probe p : filtered.probes()) {
            assertTrue(p.rank() <= 10);
        }
        assertEquals(KnowledgeSets.load(KnowledgeSets.STORY_TYPES).size(), filtered.keptOfTotal().get("stories")[1]);
    }

    @Test
    void everyBaselineTopTenEqualsBruteForce() {
        for (ProbeFilter.Probe probe : filtered.probes().subList(0, 3)) {
            // batch 1: the bounded search must stop on its bound alone, after any candidate
            try (Trace trace = ForwardPass.of(MODEL).trace(probe.prompt()); NDScope scope = new NDScope()) {
                FfnNeuronChooser chooser = new FfnNeuronChooser(MODEL, trace, probe.gold(), projections, 1);
                FfnBaselineReference reference = new FfnBaselineReference(MODEL, trace, probe.gold());
                for (FfnRankingMethod method : FfnRankingMethod.values()) {
                    if (method == FfnRankingMethod.RANDOM) {
                        continue;
                    }
                    List<String> expected = reference.top(method, 10).stream()
                            .map(s -> s.layer() + "/" + s.neuron()).toList();
                    List<String> actual = chooser.top(method, 10, 0).stream()
                            .map(n -> n.layer() + "/" + n.index()).toList();
                    assertEquals(expected, actual, method + " on \"" + probe.item().prompt() + "\"");
                }
            }
        }
    }

    /** log p(w | v) alone is the one search that stops on a bound: check it on every kept probe. */
    @Test
    void theBoundedLogProbSearchIsExactOnEveryProbe() {
        for (ProbeFilter.Probe probe : filtered.probes()) {
            try (Trace trace = ForwardPass.of(MODEL).trace(probe.prompt()); NDScope scope = new NDScope()) {
                FfnNeuronChooser chooser = new FfnNeuronChooser(MODEL, trace, probe.gold(), projections, 1);
                List<String> expected = new FfnBaselineReference(MODEL, trace, probe.gold())
                        .top(FfnRankingMethod.LOG_PROB, 10).stream().map(s -> s.layer() + "/" + s.neuron()).toList();
                assertEquals(expected, chooser.top(FfnRankingMethod.LOG_PROB, 10, 0).stream()
                        .map(n -> n.layer() + "/" + n.index()).toList(), probe.item().prompt());
            }
        }
    }

    /** Counting by comparison and by sorting give the same ranks, and each equals a plain count over the vocabulary. */
    @Test
    void projectionRanksAreCountsOfLargerEntries() {
        int[] golds = filtered.probes().stream().mapToInt(ProbeFilter.Probe::gold).distinct().toArray();
        SubvalueProjections sorted = SubvalueProjections.compute(MODEL, golds, true);
        SubvalueProjections compared = SubvalueProjections.compute(MODEL, golds, false);
        float[] unembedding = MODEL.weights().base().unembedding().toFloatArray();
        float[] gamma = MODEL.weights().base().finalNormWeight().toFloatArray();
        int d = MODEL.config().dModel();
        int vocab = MODEL.config().vocabSize();
        for (int l = 0; l < MODEL.config().nLayers(); l++) {
            float[] down = MODEL.weights().base().layer(l).matrix(dev.engram.runtime.Param.FFN_DOWN).toFloatArray();
            for (int k = 0; k < MODEL.config().dFfn(); k += 37) {
                double[] p = new double[vocab];
                for (int i = 0; i < d; i++) {
                    for (int v = 0; v < vocab; v++) {
                        p[v] += gamma[i] * down[k * d + i] * unembedding[i * vocab + v];
                    }
                }
                for (int gold : golds) {
                    double[] negative = java.util.Arrays.stream(p).map(x -> -x).toArray();
                    assertEquals(FfnBaselineReference.rank(p, gold), sorted.rank(l, k, gold, 1), "L" + l + "." + k);
                    assertEquals(FfnBaselineReference.rank(negative, gold), sorted.rank(l, k, gold, -1));
                    assertEquals(sorted.rank(l, k, gold, 1), compared.rank(l, k, gold, 1));
                    assertEquals(sorted.rank(l, k, gold, -1), compared.rank(l, k, gold, -1));
                }
                assertEquals(java.util.Arrays.stream(p).max().orElseThrow(), sorted.max(l, k), 1e-4);
                assertEquals(java.util.Arrays.stream(p).min().orElseThrow(), compared.min(l, k), 1e-4);
            }
        }
    }

    @Test
    void randomChoicesAreDistinctAndSeeded() {
        ProbeFilter.Probe probe = filtered.probes().get(0);
        try (Trace trace = ForwardPass.of(MODEL).trace(probe.prompt()); NDScope scope = new NDScope()) {
            FfnNeuronChooser chooser = new FfnNeuronChooser(MODEL, trace, probe.gold(), projections);
            List<NeuronId> a = chooser.top(FfnRankingMethod.RANDOM, 10, 5);
            assertEquals(a, chooser.top(FfnRankingMethod.RANDOM, 10, 5));
            assertEquals(10, a.stream().distinct().count());
            assertTrue(!a.equals(chooser.top(FfnRankingMethod.RANDOM, 10, 6)));
        }
    }

    /** The small version of the paper's experiment that CI runs, with the report it writes. */
    @Test
    void zeroingTheChosenNeuronsHurtsTheGoldMoreThanRandomOnes(@TempDir Path out) throws Exception {
        FaithfulnessRun.Result result = FaithfulnessRun.run(MODEL, filtered.probes(), filtered.keptOfTotal(),
                FaithfulnessRun.Sizes.paper(), 1);
        FaithfulnessReport report = new FaithfulnessReport(result);
        double ours = report.summary(FfnRankingMethod.LOG_PROB_INCREASE).probabilityDecrease();
        double random = report.summary(FfnRankingMethod.RANDOM).probabilityDecrease();
        assertTrue(ours > random + 20, "top-10 log-prob increase: " + ours + "% vs random-10: " + random + "%");
        assertTrue(report.summary(FfnRankingMethod.LOG_PROB_INCREASE).mrr()
                < report.summary(FfnRankingMethod.RANDOM).mrr());
        assertTrue(report.summary(FaithfulnessRun.VALUE_NEURONS).probabilityDecrease()
                > report.summary(FaithfulnessRun.RANDOM_VALUE_NEURONS).probabilityDecrease() + 20);
        assertTrue(report.summary(FaithfulnessRun.QUERY_NEURONS).probabilityDecrease()
                > report.summary(FaithfulnessRun.RANDOM_QUERY_NEURONS).probabilityDecrease() + 20);
        // FFN layers carry most of the gain on these probes
        double[][] sums = result.moduleSums().get("stories");
        assertTrue(java.util.Arrays.stream(sums[1]).sum() > 0);

        report.write(out);
        JsonNode json = new ObjectMapper().readTree(out.resolve("faithfulness-stories260K.json").toFile());
        assertEquals(filtered.probes().size(), json.get("summaries").get(0).get("probes").asInt());
        assertTrue(Files.readString(out.resolve("faithfulness-stories260K.md")).contains("| unintervened |"));
        assertTrue(Files.readString(out.resolve("faithfulness-stories260K.svg")).startsWith("<svg"));
        assertTrue(Files.readString(out.resolve("faithfulness-stories260K-layers.svg")).contains("<polyline"));
    }
}
