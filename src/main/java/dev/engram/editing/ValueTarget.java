package dev.engram.editing;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.Model;
import dev.engram.runtime.Precision;
import dev.engram.runtime.TorchOwned;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.KvCache;
import dev.engram.trace.PackedSequences;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ROME's v* and MEMIT's z: the vector δ that, added to the residual stream after layer l at the subject's last token
 * (for ROME's FFN at l, the same as adding it to that FFN's output there), makes the model say target_new.
 *
 * <p>Over the prompt read alone and behind {@link TargetOptions#prefixes} model-generated prefixes (ROME's context
 * templates, {@link TrainingPrompts}), Adam minimises
 * <pre>
 *   L(δ) = mean_prompts mean_i −log p(target_new_i | prompt, target_new_{&lt;i}; h_l + δ)
 *        + w_kl · KL(p(· | "{subject} is a") ‖ p_δ(· | "{subject} is a")) + w_decay · ‖δ‖ / ‖h‖²
 * </pre>
 * stopping once the NLL is below 0.05, and keeping ‖δ‖ ≤ clamp · ‖h‖ after every step (h: the unedited residual at
 * the plain prompt's subject token).
 */
final class ValueTarget {
    private static final double STOP_NLL = 0.05;

    /**
     * @param delta    the optimised δ [d]
     * @param residual the unedited h at layer l and the plain prompt's subject token [d]
     * @param steps    the Adam steps run
     * @param nll      the last NLL of target_new
     */
    record Result(double[] delta, double[] residual, int steps, double nll) {
    }

    private ValueTarget() {
    }

    static Result optimise(Model model, EditCase edit, int layer, TargetOptions options, long seed) {
        if (layer < 0 || layer >= model.config().nLayers() - 1) {
            throw new IllegalArgumentException("options: layer " + layer + " must be in [0, "
                    + (model.config().nLayers() - 1) + ")");
        }
        List<int[]> contexts = TrainingPrompts.of(model, edit.prompt(), options.prefixes(), seed);
        int fromEnd = edit.subject().fromEnd(edit.prompt());
        int[] target = edit.targetNew();
        List<int[]> sequences = new ArrayList<>();
        List<Integer> subjectRows = new ArrayList<>();
        for (int[] c : contexts) {
            int[] s = Arrays.copyOf(c, c.length + target.length - 1);
            System.arraycopy(target, 0, s, c.length, target.length - 1);
            sequences.add(s);
            subjectRows.add(c.length - 1 - fromEnd);
        }
        int[] klPrompt = klPrompt(model, edit);
        if (klPrompt != null) {
            sequences.add(klPrompt);
            subjectRows.add(klSubjectLast(model, edit));
        }
        // δ changes each sequence from its subject row on, and a causal model's earlier rows never read later ones:
        // the rows before it (ROME's prefix, the prompt's opening) are the same at every step, so their keys and
        // values are computed once (the beginnings) and each step runs only the rows from the subject on (the ends)
        List<int[]> beginnings = new ArrayList<>();
        List<int[]> ends = new ArrayList<>();
        for (int s = 0; s < sequences.size(); s++) {
            beginnings.add(Arrays.copyOf(sequences.get(s), subjectRows.get(s)));
            ends.add(Arrays.copyOfRange(sequences.get(s), subjectRows.get(s), sequences.get(s).length));
        }
        PackedSequences packed = PackedSequences.of(sequences);
        int d = model.config().dModel();
        synchronized (LearnedEditor.AUTOGRAD) {
            try (NDManager manager = model.weights().manager().newSubManager();
                    KvCache prefix = new KvCache(model);
                    Precision.WidenedCopies widened = Precision.keepWidenedCopies()) {
                ForwardPass.of(model).prefill(beginnings, prefix);
                PackedSequences after = PackedSequences.after(prefix, ends);
                long[] targetRows = new long[contexts.size() * target.length];
                for (int s = 0; s < contexts.size(); s++) {
                    for (int i = 0; i < target.length; i++) {
                        targetRows[s * target.length + i] = after.row(s,
                                contexts.get(s).length - 1 - subjectRows.get(s) + i);
                    }
                }
                long klRow = klPrompt == null ? -1
                        : after.row(contexts.size(), klPrompt.length - 1 - subjectRows.get(contexts.size()));
                long[] endRows = new long[ends.stream().mapToInt(e -> e.length).sum()]; // their rows in the whole pack
                float[] mask = new float[endRows.length];
                for (int s = 0; s < sequences.size(); s++) {
                    mask[after.row(s, 0)] = 1f;
                    for (int i = 0; i < ends.get(s).length; i++) {
                        endRows[after.row(s, i)] = packed.row(s, subjectRows.get(s) + i);
                    }
                }
                long[] rows = klPrompt == null ? targetRows : append(targetRows, klRow);
                NDArray base;
                NDArray klInitial = null;
                double[] h;
                // no NDScope here: it would close the copies kept past the trace
                try (Trace trace = ForwardPass.of(model).trace(packed)) {
                    base = trace.residPost(layer).get(manager.create(endRows));
                    base.attach(manager);
                    h = toDoubles(trace.residPost(layer).get(packed.row(0, subjectRows.get(0))).toFloatArray());
                    if (klPrompt != null) {
                        klInitial = trace.logits().get(packed.row(contexts.size(), klPrompt.length - 1))
                                .logSoftmax(-1).duplicate();
                        klInitial.attach(manager);
                    }
                }
                NDArray maskArray = manager.create(mask, new Shape(mask.length, 1));
                NDArray delta = manager.zeros(new Shape(1, d));
                delta.setRequiresGradient(true);
                NDArray m = manager.zeros(new Shape(1, d));
                NDArray v = manager.zeros(new Shape(1, d));
                TrainableRows group = new TrainableRows(layer, dev.engram.runtime.Param.FFN_DOWN, new int[] {0}, delta,
                        manager.ones(new Shape(1, 1)), m, v);
                double hNorm = Math.sqrt(KeyValueAlgebra.dot(h, h));
                double nll = Double.NaN;
                int step = 0;
                while (true) {
                    Cancellation.checkpoint();
                    try (NDScope scope = new NDScope();
                            GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray residual = base.add(maskArray.mul(delta));
                        try (Trace run = ForwardPass.of(model).differentiable().fromResidual(layer + 1, residual)
                                .afterPrefix(prefix).logitsAt(after, rows)) {
                            NDArray logProbs = run.logits().logSoftmax(-1);
                            NDArray loss = null;
                            for (int r = 0; r < targetRows.length; r++) {
                                NDArray term = logProbs.get(new NDIndex("{}, {}", r, target[r % target.length])).neg();
                                loss = loss == null ? term : loss.add(term);
                            }
                            loss = loss.div(TorchOwned.scalar(targetRows.length));
                            nll = loss.getFloat();
                            if (klInitial != null && options.klWeight() > 0) {
                                // KL(p_init ‖ p_δ) = Σ_v p_init(v) (log p_init(v) − log p_δ(v)) at "{subject} is a"
                                NDArray now = logProbs.get(targetRows.length);
                                loss = loss.add(klInitial.exp().mul(klInitial.sub(now)).sum()
                                        .mul(TorchOwned.scalar((float) options.klWeight())));
                            }
                            // ROME's weight decay: w · ‖δ‖ / ‖h‖²
                            loss = loss.add(delta.norm().mul(TorchOwned.scalar(
                                    (float) (options.weightDecay() / (hNorm * hNorm)))));
                            if (nll < STOP_NLL || step == options.steps()) {
                                break;
                            }
                            collector.backward(loss);
                        }
                    }
                    Adam.step(List.of(group), options.learningRate(), step + 1);
                    clamp(delta, options.clampFactor() * hNorm);
                    step++;
                }
                return new Result(toDoubles(delta.toFloatArray()), h, step, nll);
            }
        }
    }

    /** δ ← δ · max_norm / ‖δ‖ when ‖δ‖ exceeds max_norm. */
    private static void clamp(NDArray delta, double maxNorm) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDScope scope = new NDScope()) {
            double norm = delta.norm().getFloat();
            if (norm > maxNorm) {
                delta.muli((float) (maxNorm / norm));
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** "{subject} is a" (ROME's KL prompt), or null when the subject is not known (a plain prompt). */
    static int[] klPrompt(Model model, EditCase edit) {
        if (!model.hasTokenizer() || edit.subject().equals(SubjectSpan.lastTokenOf(edit.prompt()))) {
            return null;
        }
        String subject = subjectText(model, edit);
        int[] s = model.tokenizer().encodePrompt(subject);
        int[] tail = model.tokenizer().encodeContinuation(" is a");
        int[] out = Arrays.copyOf(s, s.length + tail.length);
        System.arraycopy(tail, 0, out, s.length, tail.length);
        return out;
    }

    private static int klSubjectLast(Model model, EditCase edit) {
        return model.tokenizer().encodePrompt(subjectText(model, edit)).length - 1;
    }

    private static String subjectText(Model model, EditCase edit) {
        return model.tokenizer().decode(Arrays.copyOfRange(edit.prompt(), edit.subject().first(),
                edit.subject().last() + 1)).strip();
    }

    private static long[] append(long[] a, long x) {
        long[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = x;
        return out;
    }

    static double[] toDoubles(float[] f) {
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }
}
