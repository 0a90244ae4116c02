package dev.engram.evaluation;

import ai.djl.ndarray.NDScope;
import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.attribution.NeuronId;
import dev.engram.attribution.NeuronKind;
import dev.engram.attribution.NormMode;
import dev.engram.attribution.QueryKey;
import dev.engram.attribution.ScoredNeuron;
import dev.engram.attribution.StepAttribution;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The paper's faithfulness experiment on one model: for each filtered probe, zero the neurons each method picks and
 * measure the gold token (MRR, probability, log-probability) against the unintervened model and random controls; and
 * sum the layer scores Imp(A^l), Imp(F^l) per knowledge type (the module-level summary).
 */
public final class FaithfulnessRun {
    /** Sizes, as in the paper. */
    public record Sizes(int ffnTop, int attentionValues, int ffnValues, int queryNeurons) {
        public static Sizes paper() {
            return new Sizes(10, 200, 100, 1000);
        }
    }

    public static final String UNINTERVENED = "unintervened";
    public static final String VALUE_NEURONS = "value neurons: top attention + FFN by log-prob increase";
    public static final String RANDOM_VALUE_NEURONS = "value neurons: random, same counts";
    public static final String QUERY_NEURONS = "query neurons: top by summed query score";
    public static final String RANDOM_QUERY_NEURONS = "query neurons: random, same kinds and positions";

    /** Everything measured on one model. */
    public record Result(String model, Sizes sizes, Map<String, int[]> keptOfTotal,
            Map<String, List<GoldMetrics>> byCondition, Map<String, double[][]> moduleSums,
            Map<String, Integer> probesPerType, long seconds) {
    }

    private FaithfulnessRun() {
    }

    public static Result run(Model model, List<ProbeFilter.Probe> probes, Map<String, int[]> keptOfTotal, Sizes sizes,
            long seed) {
        long start = System.nanoTime();
        SubvalueProjections projections = SubvalueProjections.compute(model,
                probes.stream().mapToInt(ProbeFilter.Probe::gold).distinct().toArray());
        Map<String, List<GoldMetrics>> byCondition = new LinkedHashMap<>();
        Map<String, double[][]> moduleSums = new LinkedHashMap<>();
        Map<String, Integer> probesPerType = new LinkedHashMap<>();
        int layers = model.config().nLayers();
        System.err.printf("projections of %d gold tokens: %d s%n", projections.goldCount(),
                (System.nanoTime() - start) / 1_000_000_000);
        for (int i = 0; i < probes.size(); i++) {
            ProbeFilter.Probe probe = probes.get(i);
            long probeSeed = seed * 1_000_003L + i;
            int[] prompt = probe.prompt();
            int gold = probe.gold();
            List<NeuronId> valueSet = new ArrayList<>();
            try (Trace trace = ForwardPass.of(model).trace(prompt); NDScope scope = new NDScope()) {
                // the traced pass is the unintervened one: no second forward pass for it
                add(byCondition, UNINTERVENED, GoldMetrics.of(new NextTokenDistribution(trace.lastLogits()), gold));
                FfnNeuronChooser chooser = new FfnNeuronChooser(model, trace, gold, projections);
                for (FfnRankingMethod method : FfnRankingMethod.values()) {
                    add(byCondition, "FFN top-" + sizes.ffnTop() + ": " + method.label(), Ablation.zeroing(model,
                            prompt, gold, chooser.top(method, sizes.ffnTop(), probeSeed)));
                }
                chooser.ranker().top(sizes.attentionValues(), NeuronKind.ATTENTION).forEach(s -> valueSet.add(s.id()));
                chooser.ranker().top(sizes.ffnValues(), NeuronKind.FFN).forEach(s -> valueSet.add(s.id()));
            }
            add(byCondition, VALUE_NEURONS, Ablation.zeroing(model, prompt, gold, valueSet));
            add(byCondition, RANDOM_VALUE_NEURONS, Ablation.zeroing(model, prompt, gold,
                    randomLike(model, valueSet, new Random(probeSeed))));
            StepAttribution step = new Attributor(model).attribute(prompt, new int[] {gold},
                    new AttributionOptions(1, sizes.queryNeurons(), NormMode.FROZEN, 100, 30, QueryKey.GATE, false,
                            false)).steps().get(0);
            List<NeuronId> query = step.query().top().stream().map(ScoredNeuron::id).toList();
            add(byCondition, QUERY_NEURONS, Ablation.zeroing(model, prompt, gold, query));
            add(byCondition, RANDOM_QUERY_NEURONS, Ablation.zeroing(model, prompt, gold,
                    randomLike(model, query, new Random(probeSeed + 1))));
            probesPerType.merge(probe.item().type(), 1, Integer::sum);
            double[][] sums = moduleSums.computeIfAbsent(probe.item().type(), t -> new double[2][layers]);
            for (int l = 0; l < layers; l++) {
                sums[0][l] += step.attentionLayers()[l];
                sums[1][l] += step.ffnLayers()[l];
            }
            System.err.printf("probe %d/%d (%s): %d s%n", i + 1, probes.size(), probe.item().type(),
                    (System.nanoTime() - start) / 1_000_000_000);
        }
        return new Result(model.name(), sizes, keptOfTotal, byCondition, moduleSums, probesPerType,
                (System.nanoTime() - start) / 1_000_000_000);
    }

    private static void add(Map<String, List<GoldMetrics>> byCondition, String condition, GoldMetrics m) {
        byCondition.computeIfAbsent(condition, c -> new ArrayList<>()).add(m);
    }

    /** For each neuron, a random one of the same kind at the same position (other layer, index, head, dim, source). */
    static List<NeuronId> randomLike(Model model, List<NeuronId> neurons, Random random) {
        int layers = model.config().nLayers();
        List<NeuronId> out = new ArrayList<>();
        for (NeuronId n : neurons) {
            int layer = random.nextInt(layers);
            if (n.kind() == NeuronKind.FFN) {
                out.add(new NeuronId(NeuronKind.FFN, layer, random.nextInt(model.config().dFfn()), -1, -1, -1,
                        n.position()));
            } else {
                int head = random.nextInt(model.config().nHeads());
                int dim = random.nextInt(model.config().headDim());
                int source = random.nextInt(n.position() + 1);
                int sources = n.position() + 1;
                out.add(new NeuronId(NeuronKind.ATTENTION, layer, (head * model.config().headDim() + dim) * sources
                        + source, head, dim, source, n.position()));
            }
        }
        return out;
    }
}
