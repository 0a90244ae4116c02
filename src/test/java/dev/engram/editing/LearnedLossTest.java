package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import dev.engram.attribution.NeuronKind;
import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The learned edit's loss, as training computes it (one packed pass from the lowest edited layer, trainable row
 * updates, the unembedding for the rows the loss reads only), against the literal definition on SmolLM2: each
 * training sequence and contrast prompt run alone through the edited view, every log-probability in double precision:
 * <pre>
 *   L(δ) = mean_s [NLL_s(target_new) + λ_rep · −log(1 − p_s(target_new[0] | prompt_s + target_new))]
 *          + λ_KL · mean_{i < |prompt|−1} KL(p_parent,i ‖ p_δ,i) + λ_C · mean_c KL_c(p_parent ‖ p_δ) + λ_2 · Σ‖δ‖²
 * </pre>
 */
class LearnedLossTest {
    private static final Model MODEL = TestModels.smolLM2();

    @Test
    void thePackedLossEqualsTheLiteralOneAtARandomDelta() {
        // a two-token target, FFN and attention subvalues, prefixes and contrasts: every term and row kind is read
        EditCase edit = new EditCase(MODEL.tokenizer().encodePrompt("The capital of the United Kingdom is"),
                MODEL.tokenizer().encodeContinuation(" New Delhi"), MODEL.tokenizer().encodeContinuation(" London"),
                List.of(), List.of()).withSubject(MODEL, "the United Kingdom", "The capital of {} is");
        assertTrue(edit.targetNew().length >= 2, "the target has several tokens");
        EditOptions defaults = EditOptions.defaults(EditMethods.LEARNED, MODEL.config().nLayers());
        EditOptions options = defaults.withKinds(EnumSet.of(NeuronKind.FFN, NeuronKind.ATTENTION));
        List<EditUnit> units = new ArrayList<>(new NeuronSelector(MODEL).select(edit.prompt(), edit.targetTrue()[0],
                edit.targetNew()[0], options));
        // two W_O rows as well (attention value neurons), one of them below every located FFN neuron
        units.add(new EditUnit(NeuronKind.ATTENTION, 20, 37, EditUnit.Reason.PROMOTES_NEW, 0.1));
        units.add(new EditUnit(NeuronKind.ATTENTION, 5, 300, EditUnit.Reason.PROMOTES_NEW, 0.1));

        EvaluatedLoss atZero = lossAtRandomTheta(edit, units, options, 1, 0);
        EvaluatedLoss atRandom = lossAtRandomTheta(edit, units, options, 1, 0.3);
        double literalAtZero = literalLoss(edit, options, atZero.delta());
        double literalAtRandom = literalLoss(edit, options, atRandom.delta());
        assertEquals(literalAtZero, atZero.loss(), 1e-4 * Math.abs(literalAtZero));
        assertEquals(literalAtRandom, atRandom.loss(), 1e-4 * Math.abs(literalAtRandom));
        assertTrue(Math.abs(literalAtRandom - literalAtZero) > 0.05 * Math.abs(literalAtZero),
                "the random δ moves the loss well beyond the tolerance: " + literalAtZero + " → " + literalAtRandom);
    }

    /** L(δ) at one δ, with the δ it was taken at. */
    private record EvaluatedLoss(double loss, WeightDelta delta) {
    }

    /**
     * L(δ) with every θ drawn from N(0, σ²) by {@code seed} (δ = s ⊙ θ), computed as training computes it
     * ({@link LearnedObjective#loss}).
     */
    private static EvaluatedLoss lossAtRandomTheta(EditCase edit, List<EditUnit> units, EditOptions options, long seed,
            double sigma) {
        try (NDManager manager = MODEL.weights().manager().newSubManager()) {
            LearnedObjective objective = LearnedObjective.build(MODEL, edit, units,
                    (LearnedOptions) options.methodOptions(), options.seed(), manager);
            java.util.Random random = new java.util.Random(seed);
            boolean gradMode = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try {
                for (TrainableRows g : objective.groups()) {
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
            try (NDScope scope = new NDScope(); LearnedObjective.Loss loss = objective.loss()) {
                return new EvaluatedLoss(loss.value().getFloat(), objective.delta());
            }
        }
    }

    /** L(δ) from its definition, with the parent and the edited view run on each sequence alone. */
    private static double literalLoss(EditCase edit, EditOptions options, WeightDelta delta) {
        Model edited = MODEL.edited(delta);
        LearnedOptions learning = (LearnedOptions) options.methodOptions();
        List<int[]> prompts = TrainingPrompts.of(MODEL, edit.prompt(), learning.prefixes(), options.seed());
        int[] target = edit.targetNew();
        double loss = 0;
        for (int[] prompt : prompts) {
            int[] tokens = Arrays.copyOf(prompt, prompt.length + target.length);
            System.arraycopy(target, 0, tokens, prompt.length, target.length);
            double[][] logProbs = logProbs(edited, tokens);
            double nll = 0;
            for (int i = 0; i < target.length; i++) {
                nll -= logProbs[prompt.length - 1 + i][target[i]];
            }
            double again = Math.exp(logProbs[tokens.length - 1][target[0]]);
            double repetition = -Math.log(Math.min(1, Math.max(1e-6, 1 - again)));
            loss += (nll / target.length + learning.repetitionWeight() * repetition) / prompts.size();
        }
        double[][] parentPrompt = logProbs(MODEL, edit.prompt());
        double[][] editedPrompt = logProbs(edited, edit.prompt());
        int klPositions = edit.prompt().length - 1;
        double kl = 0;
        for (int i = 0; i < klPositions; i++) {
            kl += kl(parentPrompt[i], editedPrompt[i]) / klPositions;
        }
        loss += learning.klWeight() * kl;
        double contrastKl = 0;
        for (int[] contrast : edit.contrasts()) {
            double[][] p = logProbs(MODEL, contrast);
            double[][] q = logProbs(edited, contrast);
            contrastKl += kl(p[contrast.length - 1], q[contrast.length - 1]) / edit.contrasts().size();
        }
        loss += learning.contrastWeight() * contrastKl;
        double squares = 0;
        for (WeightDelta.Entry e : delta.entries()) {
            for (int i = 0; i < e.length(); i++) {
                squares += (double) e.changeAt(i) * e.changeAt(i);
            }
        }
        return loss + learning.l2Weight() * squares;
    }

    /** log softmax of every position's logits, in double precision: [T][V]. */
    private static double[][] logProbs(Model model, int[] tokens) {
        float[] flat;
        try (Trace run = ForwardPass.of(model).logits(tokens)) {
            flat = run.logits().toFloatArray();
        }
        int vocab = model.config().vocabSize();
        double[][] out = new double[tokens.length][vocab];
        for (int t = 0; t < tokens.length; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, flat[t * vocab + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(flat[t * vocab + v] - max);
            }
            double log = max + Math.log(sum);
            for (int v = 0; v < vocab; v++) {
                out[t][v] = flat[t * vocab + v] - log;
            }
        }
        return out;
    }

    /** KL(p ‖ q) = Σ_v p_v (log p_v − log q_v), from log-probabilities. */
    private static double kl(double[] logP, double[] logQ) {
        double sum = 0;
        for (int v = 0; v < logP.length; v++) {
            sum += Math.exp(logP[v]) * (logP[v] - logQ[v]);
        }
        return sum;
    }
}
