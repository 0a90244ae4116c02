package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
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
    private record Candidate(NeuronTable table, int index, double upperBound) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            return Double.compare(o.upperBound, upperBound);
        }
    }

    static Ranking top(ValueScoring scoring, List<NeuronTable> tables, int k) {
        if (scoring.firstOrder() == null) {
            throw new IllegalStateException("the bounded ranking needs the frozen norm's first-order readout");
        }
        // a max-heap built in O(N): only the neurons actually scored are ever taken out in order
        PriorityQueue<Candidate> byBound = new PriorityQueue<>(upperBounds(scoring, tables));
        int total = byBound.size();
        TopK best = new TopK(k);
        int evaluated = 0;
        while (!byBound.isEmpty()) {
            if (best.full() && byBound.peek().upperBound() < threshold(best.threshold())) {
                break;
            }
            List<Candidate> batch = new ArrayList<>();
            int size = evaluated == 0 ? Math.min(BATCH, k + 8) : BATCH;
            while (batch.size() < size && !byBound.isEmpty()) {
                batch.add(byBound.poll());
            }
            for (RankedNeuron scored : exact(scoring, batch)) {
                best.offer(scored.table(), scored.index(), scored.score());
            }
            evaluated += batch.size();
        }
        return new Ranking(best.sorted(), evaluated, total);
    }

    /** UB below this cannot beat τ; the margin absorbs float32 rounding in UB and in the exact scores. */
    private static double threshold(double tau) {
        return tau - 1e-4 - 1e-5 * Math.abs(tau);
    }

    /** UB_i = c_i · (u_i · (q_w − q_p)) for every neuron; one matrix-vector product per table. */
    private static List<Candidate> upperBounds(ValueScoring scoring, List<NeuronTable> tables) {
        List<Candidate> out = new ArrayList<>();
        try (NDScope scope = new NDScope()) {
            for (NeuronTable table : tables) {
                NDArray readout = scoring.firstOrder().get(table.baseIndex).reshape(-1, 1);
                float[] projected = table.subvalues.matMul(readout).toFloatArray();
                for (int i = 0; i < table.size(); i++) {
                    out.add(new Candidate(table, i, (double) table.coefficients[i] * projected[table.row(i)]));
                }
            }
        }
        return out;
    }

    /** Imp for a batch, through the additive identity: log_softmax(s(base) + S(v))_w − log p(w | base). */
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
            NDArray logits = scoring.baseLogits().get(manager.create(baseRows))
                    .add(scoring.readout().direction(ValueScoring.concat(blocks)));
            double[] gains = scoring.gains(logits, baseRows);
            for (int i = 0; i < order.size(); i++) {
                out.add(new RankedNeuron(order.get(i).table(), order.get(i).index(), gains[i]));
            }
        }
        return out;
    }
}
