package dev.engram.attribution;

import dev.engram.runtime.Cancellation;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The exact top-k value neurons in {@link NormMode#FROZEN}, at a cost near one forward pass.
 *
 * <p>With the frozen norm, s(base + v) = s(base) + c·S(u) for v = c·u, so with p = softmax(s(base)):
 * Imp = c·S(u)_w − log Σ_v p_v exp(c·S(u)_v). Jensen's inequality (log E[e^X] ≥ E[X]) bounds it from above by the
 * first-order term UB = c·(S(u)_w − ⟨p, S(u)⟩) = c·u·(q_w − q_p), which needs one d-vector per base and one
 * matrix-vector product per layer: O(N·d + L·d·V), no N×V matrix. Neurons are then scored exactly in decreasing
 * order of UB until the next UB falls below the k-th best exact score: no unscored neuron can beat it.
 */
final class BoundedRanking {
    static final int BATCH = 64;

    private BoundedRanking() {
    }

    /** Ordered by decreasing upper bound. */
    /** Neuron {@code index} of {@code table}, which is table number {@code tableNumber} of the ranking. */
    private record Candidate(int tableNumber, NeuronTable table, int index) {
    }

    static Ranking top(ValueScoring scoring, List<NeuronTable> tables, int k) {
        if (scoring.firstOrder() == null) {
            throw new IllegalStateException("the bounded ranking needs the frozen norm's first-order readout");
        }
        float[][] bounds = upperBounds(scoring, tables);
        int total = 0;
        for (float[] b : bounds) {
            total += b.length;
        }
        boolean[][] done = new boolean[tables.size()][];
        for (int t = 0; t < tables.size(); t++) {
            done[t] = new boolean[bounds[t].length];
        }
        TopK best = new TopK(k);
        // first the k + 8 largest bounds; then every neuron whose bound still reaches the k-th best exact score.
        // τ only grows as neurons are scored, so after the second pass no unscored neuron can enter the top k.
        List<Candidate> first = largest(tables, bounds, Math.min(total, k + 8));
        int evaluated = score(scoring, first, best, done);
        List<Candidate> rest = new ArrayList<>();
        double cut = best.full() ? threshold(best.threshold(), scoring.readout().mode()) : Double.NEGATIVE_INFINITY;
        for (int t = 0; t < tables.size(); t++) {
            for (int i = 0; i < bounds[t].length; i++) {
                if (!done[t][i] && bounds[t][i] >= cut) {
                    rest.add(new Candidate(t, tables.get(t), i));
                }
            }
        }
        evaluated += score(scoring, rest, best, done);
        return new Ranking(best.sorted(), evaluated, total);
    }

    /** Scores the candidates exactly, {@value #BATCH} at a time, into {@code best}; returns how many. */
    private static int score(ValueScoring scoring, List<Candidate> candidates, TopK best, boolean[][] done) {
        candidates.forEach(c -> done[c.tableNumber()][c.index()] = true);
        for (int start = 0; start < candidates.size(); start += BATCH) {
            Cancellation.checkpoint();
            for (RankedNeuron r : exact(scoring, candidates.subList(start, Math.min(candidates.size(), start + BATCH)))) {
                best.offer(r.table(), r.index(), r.score());
            }
        }
        return candidates.size();
    }

    /** The m neurons with the largest bounds (a size-m heap over a linear scan). */
    private static List<Candidate> largest(List<NeuronTable> tables, float[][] bounds, int m) {
        PriorityQueue<long[]> smallestFirst = new PriorityQueue<>(
                (a, b) -> Float.compare(bounds[(int) a[0]][(int) a[1]], bounds[(int) b[0]][(int) b[1]]));
        for (int t = 0; t < tables.size(); t++) {
            for (int i = 0; i < bounds[t].length; i++) {
                if (smallestFirst.size() < m) {
                    smallestFirst.add(new long[] {t, i});
                } else if (bounds[t][i] > bounds[(int) smallestFirst.peek()[0]][(int) smallestFirst.peek()[1]]) {
                    smallestFirst.poll();
                    smallestFirst.add(new long[] {t, i});
                }
            }
        }
        List<Candidate> out = new ArrayList<>();
        for (long[] c : smallestFirst) {
            out.add(new Candidate((int) c[0], tables.get((int) c[0]), (int) c[1]));
        }
        return out;
    }

    /**
     * UB below this cannot beat τ; the margin absorbs float32 rounding in UB and in the exact scores (wider in EXACT
     * mode, whose UB divides sums of logit-sized terms by a recomputed scale).
     */
    private static double threshold(double tau, NormMode mode) {
        return mode == NormMode.EXACT ? tau - 1e-3 - 1e-4 * Math.abs(tau) : tau - 1e-4 - 1e-5 * Math.abs(tau);
    }

    /**
     * UB_i for every neuron, per table ({@link NormMode#FROZEN}: first order; EXACT: with the moving scale), computed in
     * doubles and stored as the next float up, so that a stored bound never falls below the true one (floats halve
     * the memory: a 2,048-token prompt has 35 million attention neurons on SmolLM2).
     */
    private static float[][] upperBounds(ValueScoring scoring, List<NeuronTable> tables) {
        return scoring.readout().mode() == NormMode.EXACT ? normBounds(scoring, tables) : firstOrderBounds(scoring, tables);
    }

    /** The smallest float ≥ {@code bound}. */
    static float roundedUp(double bound) {
        float f = (float) bound;
        return f < bound ? Math.nextUp(f) : f;
    }

    /** UB_i = c_i · (u_i · (q_w − q_p)) for every neuron, per table; one matrix-vector product per table. */
    private static float[][] firstOrderBounds(ValueScoring scoring, List<NeuronTable> tables) {
        float[][] out = new float[tables.size()][];
        try (NDScope scope = new NDScope()) {
            for (int t = 0; t < tables.size(); t++) {
                NeuronTable table = tables.get(t);
                NDArray readout = scoring.firstOrder().get(table.baseIndex).reshape(-1, 1);
                float[] projected = table.weights.timesRight(table.layer, table.subvalueMatrix, readout).toFloatArray();
                out[t] = new float[table.size()];
                for (int i = 0; i < table.size(); i++) {
                    out[t][i] = roundedUp((double) table.coefficients[i] * projected[table.row(i)]);
                }
            }
        }
        return out;
    }

    /**
     * EXACT: UB_i = (α + c_i·u_i·g) / σ_i − α / σ_base per neuron (class comment); one matrix product with [g, C(base)]
     * per table and the rows' centred squared norms per subvalue matrix.
     */
    private static float[][] normBounds(ValueScoring scoring, List<NeuronTable> tables) {
        Readout readout = scoring.readout();
        int d = (int) scoring.bases().getShape().get(1);
        double eps = readout.normEps();
        float[][] out = new float[tables.size()][];
        Map<String, float[]> squaredNorms = new java.util.HashMap<>();
        try (NDScope scope = new NDScope()) {
            for (int t = 0; t < tables.size(); t++) {
                NeuronTable table = tables.get(t);
                NDArray base = scoring.bases().get(table.baseIndex);
                NDArray centredBase = readout.centre(base.reshape(1, -1)).reshape(-1);
                // g = C(γ ⊙ (W_U[:, w] − W_U·p)) = the first-order row without its frozen scale
                NDArray g = scoring.firstOrder().get(table.baseIndex).mul(readout.frozenScale());
                double alpha = base.dot(g).getFloat();
                double baseSquare = centredBase.square().sum().getFloat() / d + eps;
                double baseScale = Math.sqrt(baseSquare);
                float[] projected = table.weights.timesRight(table.layer, table.subvalueMatrix,
                        NDArrays.stack(new NDList(g, centredBase), 1)).toFloatArray(); // [rows, 2]: u·g, u·C(base)
                float[] norms = squaredNorms.computeIfAbsent(table.layer + "/" + table.subvalueMatrix,
                        k -> centredSquaredNorms(table, readout));
                out[t] = new float[table.size()];
                for (int i = 0; i < table.size(); i++) {
                    int row = table.row(i);
                    double c = table.coefficients[i];
                    double scale = Math.sqrt(Math.max(baseSquare
                            + (2 * c * projected[2 * row + 1] + c * c * norms[row]) / d, eps));
                    out[t][i] = roundedUp((alpha + c * projected[2 * row]) / scale - alpha / baseScale);
                }
            }
        }
        return out;
    }

    /** |C(u)|² of every row u of the table's subvalue matrix (effective weights). */
    private static float[] centredSquaredNorms(NeuronTable table, Readout readout) {
        long rows = table.weights.rowsOf(table.layer, table.subvalueMatrix);
        long[] all = new long[(int) rows];
        for (int r = 0; r < all.length; r++) {
            all[r] = r;
        }
        return readout.centre(table.weights.rows(table.layer, table.subvalueMatrix, all)).square().sum(new int[] {1})
                .toFloatArray();
    }

    /** Imp for a batch: log_softmax(s(base + v))_w − log p(w | base). */
    private static List<RankedNeuron> exact(ValueScoring scoring, List<Candidate> batch) {
        Map<NeuronTable, List<Candidate>> byTable = new LinkedHashMap<>();
        batch.forEach(c -> byTable.computeIfAbsent(c.table(), t -> new ArrayList<>()).add(c));
        List<RankedNeuron> out = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            List<NDArray> blocks = new ArrayList<>();
            List<Candidate> order = new ArrayList<>();
            for (Map.Entry<NeuronTable, List<Candidate>> e : byTable.entrySet()) {
                blocks.add(ValueScoring.vectors(e.getKey(), e.getValue().stream().mapToInt(Candidate::index).toArray()));
                order.addAll(e.getValue());
            }
            long[] baseRows = order.stream().mapToLong(c -> c.table().baseIndex).toArray();
            NDManager manager = scoring.baseLogits().getManager();
            NDArray rows = manager.create(baseRows);
            NDArray vectors = ValueScoring.concat(blocks);
            // FROZEN: the additive identity; EXACT: the literal readout of base + v
            NDArray logits = scoring.readout().mode() == NormMode.EXACT
                    ? scoring.readout().logits(scoring.bases().get(rows).add(vectors))
                    : scoring.baseLogits().get(rows).add(scoring.readout().direction(vectors));
            double[] gains = scoring.gains(logits, baseRows);
            for (int i = 0; i < order.size(); i++) {
                out.add(new RankedNeuron(order.get(i).table(), order.get(i).index(), gains[i]));
            }
        }
        return out;
    }
}
