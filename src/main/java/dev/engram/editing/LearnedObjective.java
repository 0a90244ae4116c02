package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.TorchOwned;
import dev.engram.runtime.WeightDelta;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.RowUpdate;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loss a learned edit minimises over the selected subvalues' deltas δ (FiNE, ICLR 2025):
 * <pre>
 *   L(δ) = mean_s [NLL_s(target_new) + λ_rep · −log(1 − p_s(target_new[0] | prompt_s + target_new))]
 *          + λ_KL · KL(p_parent ‖ p_δ) + λ_C · mean_c KL_c(p_parent ‖ p_δ) + λ_2 · Σ‖δ‖²
 * </pre>
 * NLL_s is the mean −log p of every target_new token, teacher-forced, on training prompt s (the edit prompt and its
 * prefixed copies, {@link TrainingPrompts}); the first KL is averaged over the edit prompt's earlier positions; KL_c is
 * taken at the last position of contrast prompt c, the template filled with another subject ({@link ContrastPrompts}:
 * "The capital of Latvia is"), which keeps the edit off what the neurons write for every subject of the relation.
 * What does not depend on δ (the packed sequences, the parent's log-probabilities, the residual below the lowest
 * selected layer) is built once; only δ carries gradients.
 *
 * <p>Each δ_j is learned as δ_j = s_j · θ_j ({@link TrainableRows}) with s_j = |c_j − c̄_j| / max_i |c_i − c̄_i|, c_j the
 * subvalue's coefficient at the prompt's last position and c̄_j its mean coefficient at the contrast prompts' last
 * positions (0 without contrasts). Adam's steps have the same size for every parameter whatever its gradient, so
 * without s_j a neuron that is nearly silent at the prompt would move as far as the one that carries the fact, and
 * that change would land wherever the neuron fires instead: on the neighbours. With s_j, each subvalue moves in
 * proportion to how much it writes at the prompt beyond what it writes for any subject of the relation, as in the
 * minimum-norm solution (δ_j ∝ c_j, {@link ClosedFormEditor}).
 */
final class LearnedObjective {
    private final Model model;
    private final List<Sequence> sequences;
    private final Contrasts contrasts;
    private final Below below;
    /** log p_parent at the edit prompt's earlier positions, [klPositions, V]; null when there are none. */
    private final NDArray parentLogProbs;
    private final int klPositions;
    private final List<TrainableRows> groups;
    private final LearnedOptions options;

    private LearnedObjective(Model model, List<Sequence> sequences, Contrasts contrasts, Below below,
            NDArray parentLogProbs, int klPositions, List<TrainableRows> groups, LearnedOptions options) {
        this.model = model;
        this.sequences = sequences;
        this.contrasts = contrasts;
        this.below = below;
        this.parentLogProbs = parentLogProbs;
        this.klPositions = klPositions;
        this.groups = groups;
        this.options = options;
    }

    /**
     * Builds the objective of one edit on {@code model}: one packed pass of the parent over every training sequence and
     * contrast prompt, the trainable rows of {@code units} (δ = 0), owned by {@code manager}.
     *
     * @param seed seeds the model-generated prefixes ({@link TrainingPrompts})
     */
    static LearnedObjective build(Model model, EditCase edit, List<EditUnit> units, LearnedOptions options, long seed,
            NDManager manager) {
        List<int[]> prompts = TrainingPrompts.of(model, edit.prompt(), options.prefixes(), seed);
        List<Sequence> sequences = new ArrayList<>();
        for (int[] p : prompts) {
            int[] tokens = java.util.Arrays.copyOf(p, p.length + edit.targetNew().length);
            System.arraycopy(edit.targetNew(), 0, tokens, p.length, edit.targetNew().length);
            sequences.add(new Sequence(tokens, p.length - 1, edit.targetNew()));
        }
        int klPositions = edit.prompt().length - 1;
        // every training sequence and contrast prompt in one packed pass of the parent; the contrast prompts begin as
        // the edit prompt does (the template before the subject), and that beginning runs once
        List<int[]> all = new ArrayList<>(sequences.stream().map(Sequence::tokens).toList());
        all.addAll(edit.contrasts());
        PackedSequences packed = PackedSequences.sharingPrefixes(all);
        int firstLayer = units.stream().mapToInt(EditUnit::layer).min().orElse(0);
        try (Trace parent = ForwardPass.of(model).trace(packed)) {
            Contrasts contrasts = Contrasts.of(model, edit.contrasts(), parent, packed, sequences.size(), units,
                    manager);
            // sequence 0 is the edit prompt (then target_new), packed first: its rows are its positions
            NDArray parentLogProbs = klPositions == 0 ? null : parentLogProbs(parent, klPositions, manager);
            List<TrainableRows> groups = groups(model, units,
                    contrasts.specific(SubvalueCoefficients.at(model, parent, units, klPositions)), manager);
            // the blocks below the lowest selected layer do not depend on δ: their output is kept, not recomputed
            Below below = new Below(packed, firstLayer, kept(parent.residPre(firstLayer), manager),
                    new LossRows(packed, sequences, klPositions, edit.contrasts()));
            return new LearnedObjective(model, sequences, contrasts, below, parentLogProbs, klPositions, groups, options);
        }
    }

    /** A copy of {@code array} owned by {@code manager}, outliving the trace it came from. */
    private static NDArray kept(NDArray array, NDManager manager) {
        NDArray copy = array.duplicate();
        copy.attach(manager);
        return copy;
    }

    /** L(δ) at the current θ, min_s P(new) at it, and the run it was read from (closed with it). */
    record Loss(NDArray value, double minProbability, Trace run) implements AutoCloseable {
        @Override
        public void close() {
            run.close();
        }
    }

    /** L(δ) at the current θ, inside the caller's NDScope (and its gradient collector when training). */
    Loss loss() {
        PackedSequences packed = below.packed();
        double minProbability = 1;
        List<RowUpdate> updates = groups.stream().map(g -> g.update(rowsOf(g.param))).toList();
        // every training prompt in one packed forward pass, from the lowest selected layer up
        Trace trace = ForwardPass.of(model).withRowUpdates(updates).fromResidual(below.layer(), below.residual())
                .logitsAt(packed, below.lossRows().packedRows());
        try {
            NDArray logProbs = trace.logits().logSoftmax(-1);
            LossRows kept = below.lossRows();
            NDArray loss = null;
            for (int s = 0; s < sequences.size(); s++) {
                Sequence seq = sequences.get(s);
                NDArray nll = null;
                for (int i = 0; i < seq.targets().length; i++) {
                    int row = kept.of(packed.row(s, seq.firstTargetPosition() + i));
                    NDArray term = logProbs.get(new NDIndex("{}, {}", row, seq.targets()[i])).neg();
                    nll = nll == null ? term : nll.add(term);
                    // every token must pass, not their geometric mean: with a mean of 0.6 the first token of a
                    // two-token target could stay below the old answer, and greedy decoding would still say it
                    minProbability = Math.min(minProbability, Math.exp(-term.getFloat()));
                }
                nll = nll.div(TorchOwned.scalar(seq.targets().length));
                // FiNE's repetition penalty: −log(1 − p(target_new[0])) once the whole target has been said
                int last = kept.of(packed.row(s, seq.tokens().length - 1));
                NDArray again = logProbs.get(new NDIndex("{}, {}", last, seq.targets()[0])).exp();
                NDArray weighted = nll.add(again.neg().add(1).clip(1e-6, 1).log().neg()
                        .mul(TorchOwned.scalar((float) options.repetitionWeight())))
                        .div(TorchOwned.scalar(sequences.size()));
                loss = loss == null ? weighted : loss.add(weighted);
            }
            if (parentLogProbs != null && options.klWeight() > 0) {
                // KL(p_parent ‖ p_δ) = Σ_v p_parent(v) (log p_parent(v) − log p_δ(v)), mean over the edit prompt's
                // earlier positions (they lead the kept rows)
                NDArray edited = logProbs.get(new NDIndex(":{}", klPositions));
                NDArray kl = parentLogProbs.exp().mul(parentLogProbs.sub(edited)).sum()
                        .div(TorchOwned.scalar(klPositions));
                loss = loss.add(kl.mul(TorchOwned.scalar((float) options.klWeight())));
            }
            if (!contrasts.prompts().isEmpty() && options.contrastWeight() > 0) {
                // KL(p_parent ‖ p_δ) at each contrast prompt's last position (packed after the training sequences),
                // mean over the contrasts
                long[] rows = new long[contrasts.prompts().size()];
                for (int c = 0; c < rows.length; c++) {
                    rows[c] = kept.of(packed.row(sequences.size() + c, contrasts.prompts().get(c).length - 1));
                }
                NDArray edited = logProbs.get(logProbs.getManager().create(rows));
                NDArray kl = contrasts.parentLogProbs().exp().mul(contrasts.parentLogProbs().sub(edited)).sum()
                        .div(TorchOwned.scalar(rows.length));
                loss = loss.add(kl.mul(TorchOwned.scalar((float) options.contrastWeight())));
            }
            for (RowUpdate u : updates) {
                loss = loss.add(u.change().square().sum().mul(TorchOwned.scalar((float) options.l2Weight())));
            }
            return new Loss(loss, minProbability, trace);
        } catch (RuntimeException e) {
            trace.close();
            throw e;
        }
    }

    /**
     * A training sequence: prompt + target_new, predicting target_new[i] at position |prompt| − 1 + i; its last
     * position is where the repetition penalty reads p(target_new[0]).
     */
    private record Sequence(int[] tokens, int firstTargetPosition, int[] targets) {
    }

    /**
     * The packed training sequences, the residual stream entering block {@code layer}, the lowest layer with a
     * selected subvalue (h^{layer−1} is the same at every step, since δ only acts from that block up), and the packed
     * rows the loss reads.
     */
    private record Below(PackedSequences packed, int layer, NDArray residual, LossRows lossRows) {
    }

    /**
     * The packed rows whose logits the loss reads, in the order the unembedding computes them: the edit prompt's KL
     * positions, each training sequence's target and repetition rows, each contrast prompt's last row. The rest of the
     * packed tokens only feed attention, so the V-wide unembedding and its backward skip them.
     */
    private static final class LossRows {
        private final Map<Integer, Integer> index = new LinkedHashMap<>();
        private final long[] packedRows;

        LossRows(PackedSequences packed, List<Sequence> sequences, int klPositions, List<int[]> contrasts) {
            for (int i = 0; i < klPositions; i++) {
                add(packed.row(0, i));
            }
            for (int s = 0; s < sequences.size(); s++) {
                Sequence seq = sequences.get(s);
                for (int i = 0; i < seq.targets().length; i++) {
                    add(packed.row(s, seq.firstTargetPosition() + i));
                }
                add(packed.row(s, seq.tokens().length - 1));
            }
            for (int c = 0; c < contrasts.size(); c++) {
                add(packed.row(sequences.size() + c, contrasts.get(c).length - 1));
            }
            packedRows = index.keySet().stream().mapToLong(Integer::longValue).toArray();
        }

        private void add(int packedRow) {
            index.putIfAbsent(packedRow, index.size());
        }

        /** Where packed row {@code packedRow} sits among the kept logits. */
        int of(int packedRow) {
            return index.get(packedRow);
        }

        /** The packed rows in the order the unembedding computes them (the caller must not change the array). */
        long[] packedRows() {
            return packedRows;
        }
    }

    /**
     * The contrast prompts, the parent's log p at each one's last position, [C, V] (no gradients), and each selected
     * subvalue's mean coefficient c̄_j there.
     */
    private record Contrasts(List<int[]> prompts, NDArray parentLogProbs, double[] meanCoefficients) {
        /**
         * From the parent's packed trace, where contrast prompt c is packed sequence {@code first} + c: its logits and
         * coefficients at its last row.
         */
        static Contrasts of(Model model, List<int[]> prompts, Trace parent, PackedSequences packed, int first,
                List<EditUnit> units, NDManager manager) {
            double[] mean = new double[units.size()];
            if (prompts.isEmpty()) {
                return new Contrasts(prompts, null, mean);
            }
            float[][] last = new float[prompts.size()][];
            for (int c = 0; c < prompts.size(); c++) {
                int row = packed.row(first + c, prompts.get(c).length - 1);
                try (NDScope scope = new NDScope()) {
                    last[c] = parent.logits().get(row).toFloatArray();
                }
                double[] coefficients = SubvalueCoefficients.at(model, parent, units, row);
                for (int j = 0; j < mean.length; j++) {
                    mean[j] += coefficients[j] / prompts.size();
                }
            }
            try (NDScope scope = new NDScope()) {
                NDArray out = manager.create(last).logSoftmax(-1);
                NDScope.unregister(out);
                out.attach(manager);
                return new Contrasts(prompts, out, mean);
            }
        }

        /** c_j − c̄_j: what the subject adds to each coefficient at the prompt (c_j itself without contrasts). */
        double[] specific(double[] atPrompt) {
            double[] out = atPrompt.clone();
            for (int j = 0; j < out.length; j++) {
                out[j] -= meanCoefficients[j];
            }
            return out;
        }
    }

    /** log p_parent at positions 0 .. count − 1 of the traced prompt, without gradients: [count, V]. */
    private static NDArray parentLogProbs(Trace trace, int count, NDManager manager) {
        try (NDScope scope = new NDScope()) {
            NDArray out = trace.logits().get(new NDIndex(":{}", count)).logSoftmax(-1);
            NDScope.unregister(out);
            out.attach(manager);
            return out;
        }
    }

    /**
     * The units grouped by matrix, each row scaled by s_j = |c_j| / max_i |c_i| of the coefficients given (the
     * subject's share c_j − c̄_j when there are contrasts; 1 for all when every one is 0).
     */
    private static List<TrainableRows> groups(Model model, List<EditUnit> units, double[] coefficients,
            NDManager manager) {
        double largest = 0;
        for (double c : coefficients) {
            largest = Math.max(largest, Math.abs(c));
        }
        Map<String, List<Integer>> byMatrix = new LinkedHashMap<>();
        for (int j = 0; j < units.size(); j++) {
            byMatrix.computeIfAbsent(units.get(j).layer() + "/" + units.get(j).matrix(), k -> new ArrayList<>()).add(j);
        }
        int d = model.config().dModel();
        List<TrainableRows> out = new ArrayList<>();
        for (List<Integer> members : byMatrix.values()) {
            EditUnit first = units.get(members.get(0));
            int[] rows = members.stream().mapToInt(j -> units.get(j).row()).toArray();
            float[] scales = new float[rows.length];
            for (int r = 0; r < rows.length; r++) {
                scales[r] = largest == 0 ? 1f : (float) (Math.abs(coefficients[members.get(r)]) / largest);
            }
            Shape shape = new Shape(rows.length, d);
            NDArray theta = manager.zeros(shape);
            theta.setRequiresGradient(true);
            out.add(new TrainableRows(first.layer(), first.matrix(), rows, theta, manager.create(scales, new Shape(rows.length, 1)),
                    manager.zeros(shape), manager.zeros(shape)));
        }
        return out;
    }

    private long rowsOf(Param param) {
        return model.config().matrixShape(param)[0];
    }

    /** The trainable rows, grouped by matrix. */
    List<TrainableRows> groups() {
        return groups;
    }

    LearnedOptions options() {
        return options;
    }

    /** How many training sequences (the prompt and its prefixed copies) the loss averages over. */
    int trainingPrompts() {
        return sequences.size();
    }

    /** The current δ = s ⊙ θ of every trainable row, as a delta of the model's effective weights. */
    WeightDelta delta() {
        WeightDelta.Builder builder = model.deltaBuilder();
        int d = model.config().dModel();
        for (TrainableRows g : groups) {
            float[] values;
            try (NDScope scope = new NDScope()) {
                values = g.change().toFloatArray();
            }
            for (int r = 0; r < g.rows.length; r++) {
                builder.add(g.layer, g.param, WeightDelta.Slice.ROW, g.rows[r],
                        java.util.Arrays.copyOfRange(values, r * d, (r + 1) * d));
            }
        }
        return builder.build();
    }
}
