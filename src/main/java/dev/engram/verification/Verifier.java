package dev.engram.verification;

import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Measures an edited model against its unedited parent on the edit prompt (efficacy), the paraphrases
 * (generalisation), the neighbours and the model's sentinel prompts (specificity) and a greedy continuation
 * (fluency), and decides each gate by {@link GateThresholds}. Reads both models; changes neither.
 */
public final class Verifier {
    private static final int TOP = 5;
    private final GateThresholds thresholds;

    public Verifier(GateThresholds thresholds) {
        this.thresholds = thresholds;
    }

    public VerificationReport verify(Model parent, Model edited, EditCase edit, List<String> sentinels) {
        long start = System.nanoTime();
        PromptCheck efficacy = check(parent, edited, edit.prompt(), edit);
        List<PromptCheck> paraphrases = new ArrayList<>();
        for (int[] p : edit.paraphrases()) {
            paraphrases.add(check(parent, edited, p, edit));
        }
        List<NeighbourCheck> neighbours = new ArrayList<>();
        for (Neighbour n : edit.neighbours()) {
            neighbours.add(neighbour(parent, edited, n, edit.targetNew()));
        }
        List<SentinelCheck> sentinelChecks = new ArrayList<>();
        if (parent.hasTokenizer()) {
            for (String s : sentinels) {
                sentinelChecks.add(sentinel(parent, edited, s));
            }
        }
        Fluency fluency = fluency(parent, edited, edit.prompt());
        VerificationReport draft = new VerificationReport(efficacy, paraphrases, neighbours, sentinelChecks, fluency,
                List.of(), 0);
        return new VerificationReport(efficacy, paraphrases, neighbours, sentinelChecks, fluency, gates(draft),
                (System.nanoTime() - start) / 1_000_000);
    }

    private List<GateResult> gates(VerificationReport r) {
        List<GateResult> out = new ArrayList<>();
        PromptCheck e = r.efficacy();
        out.add(new GateResult(GateResult.Gate.EFFICACY, e.success(),
                String.format("P(new) %.4f vs P(true) %.4f on the prompt (rank of new: %d)", e.newProb(), e.trueProb(),
                        e.newRank())));
        double ps = r.paraphraseSuccess();
        out.add(new GateResult(GateResult.Gate.GENERALISATION, ps >= thresholds.minParaphraseSuccess(),
                r.paraphrases().isEmpty() ? "no paraphrases given: not measured"
                        : String.format("%d of %d paraphrases give P(new) > P(true) (need %.0f%%)",
                                r.paraphrases().stream().filter(PromptCheck::success).count(), r.paraphrases().size(),
                                100 * thresholds.minParaphraseSuccess())));
        long neighbourFlips = r.neighbours().stream().filter(NeighbourCheck::flipped).count();
        double maxKl = r.neighbours().stream().mapToDouble(NeighbourCheck::kl).max().orElse(0);
        long sentinelFlips = r.sentinels().stream().filter(s -> !s.kept()).count();
        boolean specific = neighbourFlips <= thresholds.maxNeighbourFlips() && maxKl <= thresholds.maxNeighbourKl()
                && sentinelFlips <= thresholds.maxSentinelFlips();
        out.add(new GateResult(GateResult.Gate.SPECIFICITY, specific, String.format(
                "%d of %d neighbours lost their answer (max %d); max neighbour KL %.4f nats (max %.4f); "
                        + "%d of %d sentinels changed top-1 (max %d)",
                neighbourFlips, r.neighbours().size(), thresholds.maxNeighbourFlips(), maxKl,
                thresholds.maxNeighbourKl(), sentinelFlips, r.sentinels().size(), thresholds.maxSentinelFlips())));
        Fluency f = r.fluency();
        out.add(new GateResult(GateResult.Gate.FLUENCY, f.relativeDrop() <= thresholds.maxFluencyDrop(),
                String.format("n-gram entropy %.3f vs parent %.3f (drop %.1f%%, max %.1f%%)", f.editedEntropy(),
                        f.parentEntropy(), 100 * f.relativeDrop(), 100 * thresholds.maxFluencyDrop())));
        return out;
    }

    /** Log-probabilities of a prompt's two targets and the distribution after the prompt, on one model. */
    private record Scored(double newLogProb, double trueLogProb, NextTokenDistribution next) {
    }

    private PromptCheck check(Model parent, Model edited, int[] prompt, EditCase edit) {
        Scored before = score(parent, prompt, edit.targetNew(), edit.targetTrue());
        Scored after = score(edited, prompt, edit.targetNew(), edit.targetTrue());
        return new PromptCheck(prompt, Math.exp(before.newLogProb()), Math.exp(before.trueLogProb()),
                Math.exp(after.newLogProb()), Math.exp(after.trueLogProb()), rank(after.next(), edit.targetNew()[0]),
                rank(after.next(), edit.targetTrue()[0]), top(parent, before.next()), top(edited, after.next()));
    }

    private Scored score(Model model, int[] prompt, int[] targetNew, int[] targetTrue) {
        float[][] newRows = teacherForced(model, prompt, targetNew);
        float[][] trueRows = targetTrue.length == 1 ? newRows : teacherForced(model, prompt, targetTrue);
        return new Scored(meanLogProb(newRows, targetNew), meanLogProb(trueRows, targetTrue),
                new NextTokenDistribution(newRows[0]));
    }

    /** Logits at positions |prompt| − 1 .. |prompt| + |target| − 2 of prompt + target[..n−1]: one row per target token. */
    static float[][] teacherForced(Model model, int[] prompt, int[] target) {
        int[] tokens = Arrays.copyOf(prompt, prompt.length + target.length - 1);
        System.arraycopy(target, 0, tokens, prompt.length, target.length - 1);
        float[][] rows = new float[target.length][];
        try (Trace trace = ForwardPass.of(model).logits(tokens); NDScope scope = new NDScope()) {
            for (int i = 0; i < target.length; i++) {
                rows[i] = trace.logits().get(new NDIndex("{}", prompt.length - 1 + i)).toFloatArray();
            }
        }
        return rows;
    }

    /** ROME's target probability in log space: mean_i log p(target_i | prompt, target_<i). */
    private static double meanLogProb(float[][] rows, int[] target) {
        double sum = 0;
        for (int i = 0; i < target.length; i++) {
            sum += new NextTokenDistribution(rows[i]).logProbability(target[i]);
        }
        return sum / target.length;
    }

    private NeighbourCheck neighbour(Model parent, Model edited, Neighbour n, int[] targetNew) {
        NextTokenDistribution before = new NextTokenDistribution(ForwardPass.of(parent).lastLogits(n.prompt()));
        float[][] expectedRows = teacherForced(edited, n.prompt(), n.expected());
        NextTokenDistribution after = new NextTokenDistribution(expectedRows[0]);
        double expectedAfter = meanLogProb(expectedRows, n.expected());
        double newAfter = meanLogProb(teacherForced(edited, n.prompt(), targetNew), targetNew);
        int expected = n.expected()[0];
        return new NeighbourCheck(n.prompt(), n.expected(), before.argmax() == expected, after.argmax() == expected,
                kl(before, after), expectedAfter > newAfter, top(parent, before), top(edited, after));
    }

    private SentinelCheck sentinel(Model parent, Model edited, String prompt) {
        int[] tokens = parent.tokenizer().encodePrompt(prompt);
        NextTokenDistribution before = new NextTokenDistribution(ForwardPass.of(parent).lastLogits(tokens));
        NextTokenDistribution after = new NextTokenDistribution(ForwardPass.of(edited).lastLogits(tokens));
        return new SentinelCheck(prompt, parent.tokenizer().tokenString(before.argmax()),
                parent.tokenizer().tokenString(after.argmax()), kl(before, after), top(parent, before),
                top(edited, after));
    }

    private Fluency fluency(Model parent, Model edited, int[] prompt) {
        String before = continuation(parent, prompt);
        String after = continuation(edited, prompt);
        return new Fluency(before, after, NgramEntropy.of(before), NgramEntropy.of(after));
    }

    private String continuation(Model model, int[] prompt) {
        int[] all = new GreedyGenerator(model).generate(prompt, thresholds.fluencyTokens());
        int[] generated = Arrays.copyOfRange(all, prompt.length, all.length);
        return model.hasTokenizer() ? model.tokenizer().decode(generated) : Arrays.toString(generated);
    }

    /** KL(p ‖ q) = Σ_v p_v (log p_v − log q_v), in nats. */
    static double kl(NextTokenDistribution p, NextTokenDistribution q) {
        double sum = 0;
        for (int v = 0; v < p.vocabSize(); v++) {
            double lp = p.logProbability(v);
            sum += Math.exp(lp) * (lp - q.logProbability(v));
        }
        return Math.max(0, sum);
    }

    /** 1 + the number of tokens with a strictly larger logit. */
    static int rank(NextTokenDistribution d, int token) {
        double mine = d.logProbability(token);
        int above = 0;
        for (int v = 0; v < d.vocabSize(); v++) {
            if (d.logProbability(v) > mine) {
                above++;
            }
        }
        return above + 1;
    }

    private static List<TokenProbability> top(Model model, NextTokenDistribution d) {
        return d.topK(TOP, id -> model.hasTokenizer() ? model.tokenizer().tokenString(id) : "#" + id);
    }
}
