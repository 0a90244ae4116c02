package dev.engram.editing;

import dev.engram.runtime.Cancellation;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
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
 * Learns deltas δ for the selected subvalues only (FiNE, ICLR 2025), with DJL autograd and Adam. Loss:
 * <pre>
 *   L(δ) = mean_s [NLL_s(target_new) + λ_rep · −log(1 − p_s(target_new[0] | prompt_s + target_new))]
 *          + λ_KL · KL(p_parent ‖ p_δ) + λ_C · mean_c KL_c(p_parent ‖ p_δ) + λ_2 · Σ‖δ‖²
 * </pre>
 * NLL_s is the mean −log p of every target_new token, teacher-forced, on training prompt s (the edit prompt and its
 * prefixed copies, {@link TrainingPrompts}); the first KL is averaged over the edit prompt's earlier positions; KL_c is
 * taken at the last position of contrast prompt c, the template filled with another subject ({@link ContrastPrompts}:
 * "The capital of Latvia is"), which keeps the edit off what the neurons write for every subject of the relation.
 * Training
 * stops once every token of target_new, teacher-forced, has probability ≥ the stop probability on every training
 * prompt. Only δ carries gradients.
 *
 * <p>Each δ_j is learned as δ_j = s_j · θ_j with s_j = |c_j − c̄_j| / max_i |c_i − c̄_i|, c_j the subvalue's
 * coefficient at the prompt's last position and c̄_j its mean coefficient at the contrast prompts' last positions (0
 * without contrasts), and Adam runs on θ. Adam's steps have the same size for every parameter whatever its gradient,
 * so without s_j a neuron that is nearly silent at the prompt would move as far as the one that carries the fact, and
 * that change would land wherever the neuron fires instead: on the neighbours. With s_j, each subvalue moves in
 * proportion to how much it writes at the prompt beyond what it writes for any subject of the relation, as in the
 * minimum-norm solution (δ_j ∝ c_j, {@link ClosedFormEditor}).
 */
public final class LearnedEditor {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private final Model model;

    public LearnedEditor(Model model) {
        this.model = model;
    }


    /**
     * One subvalue matrix's trainable rows: θ [R, d] (a leaf that requires gradients) with its Adam moments, and the
     * row scales s [R, 1]; the rows' change is δ = s ⊙ θ.
     */
    private static final class Group {
        final int layer;
        final Param param;
        final int[] rows;
        final NDArray m;
        final NDArray v;
        final NDArray theta;
        final NDArray scale;

        Group(int layer, Param param, int[] rows, NDArray theta, NDArray scale, NDArray m, NDArray v) {
            this.layer = layer;
            this.param = param;
            this.rows = rows;
            this.theta = theta;
            this.scale = scale;
            this.m = m;
            this.v = v;
        }

        /** δ = s ⊙ θ, inside the caller's gradient scope. */
        NDArray change() {
            return theta.mul(scale);
        }

        RowUpdate update(long inputWidth) {
            return new RowUpdate(layer, param, rows, inputWidth, change());
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
     * DJL's PyTorch engine allows one gradient collector at a time in the whole JVM; concurrent learned edits take
     * turns on this lock (locating and verifying still run in parallel).
     */
    private static final Object AUTOGRAD = new Object();

    ComputedDelta train(EditCase edit, List<EditUnit> units, LearnedOptions options, long seed) {
        synchronized (AUTOGRAD) {
            return trainAlone(edit, units, options, seed);
        }
    }

    private ComputedDelta trainAlone(EditCase edit, List<EditUnit> units, LearnedOptions options, long seed) {
        try (NDManager manager = model.weights().manager().newSubManager()) {
            Objective objective = objective(edit, units, options, seed, manager);
            int step = 0;
            double minProbability = 0;
            while (true) {
                Cancellation.checkpoint();
                minProbability = step(objective, step);
                if (minProbability >= options.stopProbability() || step == options.maxSteps()) {
                    break;
                }
                step++;
            }
            return new ComputedDelta(toDelta(objective.groups()), step, minProbability, objective.sequences().size());
        }
    }

    /** L(δ) at one δ, with the δ it was taken at: what {@link #lossAtRandomTheta} gives a test. */
    record EvaluatedLoss(double loss, WeightDelta delta) {
    }

    /**
     * L(δ) with every θ drawn from N(0, σ²) by {@code seed} (δ = s ⊙ θ), computed as training computes it. For the
     * test that checks the packed, row-selected loss against a literal one.
     */
    EvaluatedLoss lossAtRandomTheta(EditCase edit, List<EditUnit> units, EditOptions options, long seed, double sigma) {
        synchronized (AUTOGRAD) {
            try (NDManager manager = model.weights().manager().newSubManager()) {
                Objective objective = objective(edit, units, (LearnedOptions) options.methodOptions(), options.seed(),
                        manager);
                java.util.Random random = new java.util.Random(seed);
                boolean gradMode = JniUtils.isGradMode();
                JniUtils.setGradMode(false);
                try {
                    for (Group g : objective.groups()) {
                        float[] values = new float[Math.toIntExact(g.theta.size())];
                        for (int i = 0; i < values.length; i++) {
                            values[i] = (float) (sigma * random.nextGaussian());
                        }
                        try (NDArray drawn = manager.create(values, g.theta.getShape())) {
                            g.theta.addi(drawn);
                        }
                    }
                } finally {
                    JniUtils.setGradMode(gradMode);
                }
                try (NDScope scope = new NDScope(); Loss loss = loss(objective)) {
                    return new EvaluatedLoss(loss.value().getFloat(), toDelta(objective.groups()));
                }
            }
        }
    }

    /** What the loss reads that does not depend on δ, built once per edit, and the trainable groups. */
    private record Objective(List<Sequence> sequences, Contrasts contrasts, Below below, NDArray parentLogProbs,
            int klPositions, List<Group> groups, LearnedOptions options) {
    }

    private Objective objective(EditCase edit, List<EditUnit> units, LearnedOptions options, long seed,
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
            List<Group> groups = groups(units,
                    contrasts.specific(SubvalueCoefficients.at(model, parent, units, klPositions)), manager);
            // the blocks below the lowest selected layer do not depend on δ: their output is kept, not recomputed
            Below below = new Below(packed, firstLayer, kept(parent.residPre(firstLayer), manager),
                    new LossRows(packed, sequences, klPositions, edit.contrasts()));
            return new Objective(sequences, contrasts, below, parentLogProbs, klPositions, groups, options);
        }
    }

    /** A copy of {@code array} owned by {@code manager}, outliving the trace it came from. */
    private static NDArray kept(NDArray array, NDManager manager) {
        NDArray copy = array.duplicate();
        copy.attach(manager);
        return copy;
    }

    /**
     * One forward/backward over every training sequence at the current δ. Returns min_s P(new) at this δ; when that is
     * below the stop probability and steps remain, δ takes one Adam step (t = step + 1).
     */
    private double step(Objective objective, int step) {
        LearnedOptions options = objective.options();
        double minProbability;
        try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector();
                Loss loss = loss(objective)) {
            minProbability = loss.minProbability();
            if (minProbability >= options.stopProbability() || step == options.maxSteps()) {
                return minProbability;
            }
            if (!Double.isFinite(minProbability) || !Float.isFinite(loss.value().getFloat())) {
                throw new IllegalStateException("the learned edit diverged at step " + step
                        + " (the loss is not finite); lower options.learning_rate");
            }
            collector.backward(loss.value());
        }
        adam(objective.groups(), options.learningRate(), step + 1);
        return minProbability;
    }

    /** L(δ) at the current θ, min_s P(new) at it, and the run it was read from (closed with it). */
    private record Loss(NDArray value, double minProbability, Trace run) implements AutoCloseable {
        @Override
        public void close() {
            run.close();
        }
    }

    /** L(δ) at the current θ, inside the caller's NDScope (and its gradient collector when training). */
    private Loss loss(Objective o) {
        LearnedOptions options = o.options();
        List<Sequence> sequences = o.sequences();
        Contrasts contrasts = o.contrasts();
        Below below = o.below();
        PackedSequences packed = below.packed();
        double minProbability = 1;
        List<RowUpdate> updates = o.groups().stream().map(g -> g.update(rowsOf(g.param))).toList();
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
            if (o.parentLogProbs() != null && options.klWeight() > 0) {
                // KL(p_parent ‖ p_δ) = Σ_v p_parent(v) (log p_parent(v) − log p_δ(v)), mean over the edit prompt's
                // earlier positions (they lead the kept rows)
                NDArray edited = logProbs.get(new NDIndex(":{}", o.klPositions()));
                NDArray kl = o.parentLogProbs().exp().mul(o.parentLogProbs().sub(edited)).sum()
                        .div(TorchOwned.scalar(o.klPositions()));
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
     * Adam on θ: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; θ ← θ − lr · m̂ / (sqrt(v̂) + ε); the gradient is then
     * zeroed. θ is updated in place with PyTorch's grad mode off: grad mode is per thread, and server worker threads start
     * with it on, where an in-place change of a leaf that requires gradients is refused.
     */
    private static void adam(List<Group> groups, double rate, int t) {
        float correction1 = (float) (1 - Math.pow(BETA1, t));
        float correction2 = (float) (1 - Math.pow(BETA2, t));
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Group g : groups) {
                try (NDScope scope = new NDScope()) {
                    NDArray grad = g.theta.getGradient();
                    g.m.muli((float) BETA1).addi(grad.mul((float) (1 - BETA1)));
                    g.v.muli((float) BETA2).addi(grad.square().mul((float) (1 - BETA2)));
                    NDArray mHat = g.m.div(correction1);
                    NDArray vHat = g.v.div(correction2);
                    g.theta.subi(mHat.div(vHat.sqrt().add((float) EPSILON)).mul((float) rate));
                    JniUtils.zeroGrad((PtNDArray) g.theta);
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
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
    private List<Group> groups(List<EditUnit> units, double[] coefficients, NDManager manager) {
        double largest = 0;
        for (double c : coefficients) {
            largest = Math.max(largest, Math.abs(c));
        }
        Map<String, List<Integer>> byMatrix = new LinkedHashMap<>();
        for (int j = 0; j < units.size(); j++) {
            byMatrix.computeIfAbsent(units.get(j).layer() + "/" + units.get(j).matrix(), k -> new ArrayList<>()).add(j);
        }
        int d = model.config().dModel();
        List<Group> out = new ArrayList<>();
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
            out.add(new Group(first.layer(), first.matrix(), rows, theta, manager.create(scales, new Shape(rows.length, 1)),
                    manager.zeros(shape), manager.zeros(shape)));
        }
        return out;
    }

    private long rowsOf(Param param) {
        return model.config().matrixShape(param)[0];
    }

    private WeightDelta toDelta(List<Group> groups) {
        WeightDelta.Builder builder = model.deltaBuilder();
        int d = model.config().dModel();
        for (Group g : groups) {
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
