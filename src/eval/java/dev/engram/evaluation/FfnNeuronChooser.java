package dev.engram.evaluation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.attribution.NeuronId;
import dev.engram.attribution.NeuronKind;
import dev.engram.attribution.ScoredNeuron;
import dev.engram.attribution.ValueNeuronRanker;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The top-k FFN value neurons at a probe's last position T under each {@link FfnRankingMethod}. Neuron (l, k) writes
 * v = m_k · u_k into the residual; with the FROZEN readout S(u) = P(u) / r*, its vector alone reads
 * S(v) = c_k · P(u_k) with c_k = m_k / r*. Every method is exact: the vocabulary-wide ones use bounds and score the
 * candidates that could still enter the top-k, never a neurons × vocabulary matrix.
 */
final class FfnNeuronChooser {
    private static final int BATCH = 64;
    /** How many bounded candidates are scored exactly at a time. */
    private final int batch;
    private final Model model;
    private final int position;
    private final int gold;
    private final ValueNeuronRanker ranker;
    private final SubvalueProjections projections;
    /** m_k at T, [layer][neuron]. */
    private final float[][] coefficients;

    /** Call inside an NDScope: the ranker's arrays live there. */
    FfnNeuronChooser(Model model, Trace trace, int gold, SubvalueProjections projections) {
        this(model, trace, gold, projections, BATCH);
    }

    /** With {@code batch} candidates scored exactly at a time (1 makes the bound decide after every candidate). */
    FfnNeuronChooser(Model model, Trace trace, int gold, SubvalueProjections projections, int batch) {
        this.batch = batch;
        this.model = model;
        this.position = trace.lastPosition();
        this.gold = gold;
        this.ranker = new ValueNeuronRanker(model, trace, position, gold);
        this.projections = projections;
        this.coefficients = new float[model.config().nLayers()][];
        for (int l = 0; l < coefficients.length; l++) {
            coefficients[l] = trace.ffnCoefficients(l).get(position).toFloatArray();
        }
    }

    ValueNeuronRanker ranker() {
        return ranker;
    }

    List<NeuronId> top(FfnRankingMethod method, int k, long seed) {
        return switch (method) {
            case LOG_PROB_INCREASE -> ids(ranker.top(k, NeuronKind.FFN));
            case PROB_INCREASE -> probIncrease(k);
            case LOG_PROB -> logProbAlone(k);
            case NORM -> byScore(k, (l, n) -> Math.abs(coefficients[l][n]) * projections.norm(l, n));
            case COEFFICIENT -> byScore(k, (l, n) -> coefficients[l][n]);
            case COEFFICIENT_TIMES_NORM -> byScore(k, (l, n) -> coefficients[l][n] * projections.norm(l, n));
            // lower rank first; among equal ranks the larger vector first
            case RANK -> byScore(k, (l, n) -> coefficients[l][n] == 0 ? Double.NEGATIVE_INFINITY
                    : -projections.rank(l, n, gold, coefficients[l][n] > 0 ? 1 : -1)
                            + 1e-9 * Math.tanh(Math.abs(coefficients[l][n]) * projections.norm(l, n)));
            case COEFFICIENT_OVER_RANK -> byScore(k, (l, n) -> coefficients[l][n] / projections.rank(l, n, gold, 1));
            case RANDOM -> random(k, seed);
        };
    }

    /** A score for neuron (layer, index); larger is more important. */
    @FunctionalInterface
    private interface Score {
        double of(int layer, int neuron);
    }

    private record Candidate(int layer, int neuron, double score) {
        static final Comparator<Candidate> BEST_FIRST = Comparator.comparingDouble(Candidate::score).reversed()
                .thenComparingInt(Candidate::layer).thenComparingInt(Candidate::neuron);
    }

    private List<Candidate> all(Score score) {
        List<Candidate> out = new ArrayList<>();
        for (int l = 0; l < coefficients.length; l++) {
            for (int n = 0; n < coefficients[l].length; n++) {
                out.add(new Candidate(l, n, score.of(l, n)));
            }
        }
        out.sort(Candidate.BEST_FIRST);
        return out;
    }

    private List<NeuronId> byScore(int k, Score score) {
        return all(score).stream().limit(k).map(c -> id(c.layer, c.neuron)).toList();
    }

    /**
     * (c) p(w | base + v) − p(w | base) = p_l · (exp(Imp) − 1) with p_l = p(w | mid^l): within a layer it orders
     * neurons as Imp does, so the global top-k lies in the union of each layer's top-k by Imp.
     */
    private List<NeuronId> probIncrease(int k) {
        List<Candidate> pool = new ArrayList<>();
        for (int l = 0; l < coefficients.length; l++) {
            double baseProbability = Math.exp(ranker.baseLogProb(NeuronKind.FFN, l));
            for (ScoredNeuron s : ranker.topInLayer(k, NeuronKind.FFN, l)) {
                pool.add(new Candidate(l, s.id().index(), baseProbability * Math.expm1(s.score())));
            }
        }
        pool.sort(Candidate.BEST_FIRST);
        return pool.stream().limit(k).map(c -> id(c.layer, c.neuron)).toList();
    }

    /**
     * (b) log p(w | v) = c·P_w − LSE(c·P) for v's projection c·P. Two lower bounds on LSE(c·P) give an upper bound on
     * log p(w | v): by Jensen over the V − 1 other tokens, LSE(c·P) ≥ log(e^{c·P_w} + (V − 1)·e^{c·μ'}) with μ' their
     * mean; and LSE(c·P) ≥ max_v c·P_v, which is c·max P for c ≥ 0 and c·min P for c < 0. Candidates are scored
     * exactly in order of the bound until no remaining bound can beat the k-th exact score.
     */
    private List<NeuronId> logProbAlone(int k) {
        int vocab = model.config().vocabSize();
        double scale = ranker.frozenScale();
        List<Candidate> bounds = all((l, n) -> {
            double c = coefficients[l][n] / scale;
            double pw = projections.goldEntry(l, n, gold);
            double othersMean = (vocab * (double) projections.mean(l, n) - pw) / (vocab - 1);
            double a = c * pw;
            double b = Math.log(vocab - 1) + c * othersMean;
            double jensen = Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
            double largest = c * (c >= 0 ? projections.max(l, n) : projections.min(l, n));
            return a - Math.max(jensen, largest);
        });
        List<Candidate> exact = new ArrayList<>();
        for (int from = 0; from < bounds.size(); from += batch) {
            if (exact.size() >= k && bounds.get(from).score() <= exact.get(k - 1).score() - 1e-6) {
                break;
            }
            exact.addAll(exactLogProbs(bounds.subList(from, Math.min(bounds.size(), from + batch)), scale));
            exact.sort(Candidate.BEST_FIRST);
        }
        return exact.stream().limit(k).map(c -> id(c.layer, c.neuron)).toList();
    }

    private List<Candidate> exactLogProbs(List<Candidate> batch, double scale) {
        List<Candidate> out = new ArrayList<>();
        for (int l = 0; l < coefficients.length; l++) {
            int layer = l;
            List<Candidate> here = batch.stream().filter(c -> c.layer == layer).toList();
            if (here.isEmpty()) {
                continue;
            }
            try (NDScope scope = new NDScope()) {
                long[] rows = here.stream().mapToLong(Candidate::neuron).toArray();
                float[] c = new float[rows.length];
                for (int i = 0; i < c.length; i++) {
                    c[i] = (float) (coefficients[l][(int) rows[i]] / scale);
                }
                NDArray u = model.weights().rows(l, Param.FFN_DOWN, rows);
                NDArray logits = ValueNeuronRanker.projection(model, u)
                        .mul(u.getManager().create(c).reshape(rows.length, 1));
                float[] logProbs = logits.logSoftmax(1).get(new NDIndex(":, {}", gold)).toFloatArray();
                for (int i = 0; i < rows.length; i++) {
                    out.add(new Candidate(l, (int) rows[i], logProbs[i]));
                }
            }
        }
        return out;
    }

    private List<NeuronId> random(int k, long seed) {
        Random random = new Random(seed);
        Set<Long> seen = new HashSet<>();
        List<NeuronId> out = new ArrayList<>();
        int dFfn = model.config().dFfn();
        while (out.size() < k) {
            int l = random.nextInt(coefficients.length);
            int n = random.nextInt(dFfn);
            if (seen.add((long) l * dFfn + n)) {
                out.add(id(l, n));
            }
        }
        return out;
    }

    private NeuronId id(int layer, int neuron) {
        return new NeuronId(NeuronKind.FFN, layer, neuron, -1, -1, -1, position);
    }

    private static List<NeuronId> ids(List<ScoredNeuron> neurons) {
        return neurons.stream().map(ScoredNeuron::id).toList();
    }
}
