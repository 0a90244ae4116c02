package dev.engram.verification;

import dev.engram.runtime.Cancellation;
import dev.engram.editing.EarlierEdit;
import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.runtime.ThreadPriority;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Measures an edited model against its unedited parent on the edit prompt (efficacy), the paraphrases
 * (generalisation), the neighbours and the model's sentinel prompts (specificity), a greedy continuation (fluency)
 * and the prompts of edits accepted earlier on the lineage (retention); the parent's side is {@link ParentSide}, and {@link GateRules} decides each gate from the measurements.
 * Reads both models; changes neither.
 */
public final class Verifier {
    private static final int TOP = 5;
    /**
     * Daemon threads for the measurements that run beside the caller's own work: an edit's, which is heavy work, so they
     * run at the heavy lane's lower CPU priority ({@link ThreadPriority#HEAVY_NICE}).
     */
    public static final Executor BACKGROUND = Executors.newCachedThreadPool(
            ThreadPriority.factory("engram-verify", ThreadPriority.HEAVY_NICE));
    private final GateThresholds thresholds;
    private final VerificationMemo memo;

    public Verifier(GateThresholds thresholds) {
        this(thresholds, VerificationMemo.shared());
    }

    /** A verifier whose parent measurements keep what they may in {@code memo}. */
    public Verifier(GateThresholds thresholds, VerificationMemo memo) {
        this.thresholds = thresholds;
        this.memo = memo;
    }

    public VerificationReport verify(Model parent, Model edited, EditCase edit, List<String> sentinels) {
        return verify(measureParent(parent, edit, sentinels), edited);
    }

    /**
     * Everything verification needs from the unedited parent ({@link ParentSide}), measured now. It does not depend on
     * the edit's delta, so a caller may measure it while the edit is still being computed.
     */
    public ParentSide.ParentMeasurement measureParent(Model parent, EditCase edit, List<String> sentinels) {
        return new ParentSide(thresholds.fluencyTokens(), memo).measure(parent, edit, sentinels);
    }

    /**
     * {@link #measureParent} started on a background thread: the prompts are registered at once, so the edited side
     * can be scored on them before the parent's side has finished.
     */
    public ParentSide.StartedParent startParent(Model parent, EditCase edit, List<String> sentinels) {
        return new ParentSide(thresholds.fluencyTokens(), memo).start(parent, edit, sentinels);
    }

    /** Measures {@code edited} against a parent measured before. */
    public VerificationReport verify(ParentSide.ParentMeasurement parentSide, Model edited) {
        return verify(new ParentSide.StartedParent(parentSide.probes, CompletableFuture.completedFuture(parentSide.guess),
                CompletableFuture.completedFuture(parentSide)), edited);
    }

    /**
     * Measures {@code edited} against a parent whose measurement may still be running. The edited model's greedy
     * continuation starts at once on a second thread and its packed pass over every prompt runs here, neither waiting
     * for the parent's side: decoding is bound by reading the weights once per token, not by arithmetic, so the
     * continuation overlaps the packed pass as soon as a second core is free. The continuation checks the parent's guess of it
     * several tokens per pass once the guess is there ({@link GreedyGenerator#generate(int[], int, CompletableFuture)}).
     * Only the comparison waits for the parent.
     */
    public VerificationReport verify(ParentSide.StartedParent started, Model edited) {
        long start = System.nanoTime();
        Probes probes = started.probes;
        EditCase edit = probes.edit;
        CompletableFuture<String> editedText = CompletableFuture.supplyAsync(Cancellation.carried(
                () -> generated(edited, edit.prompt(), editedContinuation(edited, edit.prompt(), started.guess))),
                BACKGROUND);
        ScoredPrompts.Scores after = probes.score(edited, memo.sentinelRows);
        ParentSide.ParentMeasurement parentSide = joinQuietly(started.measurement);
        Model parent = parentSide.parent;
        ScoredPrompts.Scores before = parentSide.before;
        List<PromptCheck> checks = new ArrayList<>();
        for (int i = 0; i < probes.checkPrompts.size(); i++) {
            checks.add(check(parent, edited, probes.checkPrompts.get(i), edit.targetNew(), edit.targetTrue(),
                    probes.newPairs.get(i), probes.truePairs.get(i), before, after));
        }
        List<PromptCheck> earlier = new ArrayList<>();
        for (int i = 0; i < edit.earlier().size(); i++) {
            EarlierEdit e = edit.earlier().get(i);
            earlier.add(check(parent, edited, e.prompt(), e.targetNew(), e.targetTrue(), probes.earlierNewPairs.get(i),
                    probes.earlierTruePairs.get(i), before, after));
        }
        List<NeighbourCheck> neighbours = new ArrayList<>();
        for (int i = 0; i < edit.neighbours().size(); i++) {
            neighbours.add(neighbour(parent, edited, probes, i, before, after));
        }
        List<SentinelCheck> sentinelChecks = new ArrayList<>();
        for (int i = 0; i < probes.sentinelTokens.size(); i++) {
            NextTokenDistribution b = new NextTokenDistribution(before.rows(probes.sentinelPairs.get(i))[0]);
            NextTokenDistribution a = new NextTokenDistribution(after.rows(probes.sentinelPairs.get(i))[0]);
            sentinelChecks.add(new SentinelCheck(parentSide.sentinels.get(i), parent.tokenizer().tokenString(b.argmax()),
                    parent.tokenizer().tokenString(a.argmax()), kl(b, a), top(parent, b), top(edited, a)));
        }
        String editedContinuation = joinQuietly(editedText);
        Fluency fluency = new Fluency(parentSide.continuation, editedContinuation,
                NgramEntropy.of(parentSide.continuation), NgramEntropy.of(editedContinuation));
        PromptCheck efficacy = checks.get(0);
        List<PromptCheck> paraphrases = checks.subList(1, checks.size());
        DerivedChecks derived = DerivedChecks.of(parent, edited, probes, before, after);
        VerificationReport draft = new VerificationReport(efficacy, paraphrases, neighbours, derived.sameObject(),
                derived.relation(), sentinelChecks, earlier, fluency, List.of(), 0);
        return new VerificationReport(efficacy, paraphrases, neighbours, derived.sameObject(), derived.relation(),
                sentinelChecks, earlier, fluency, new GateRules(thresholds).decide(draft),
                (System.nanoTime() - start) / 1_000_000);
    }

    /**
     * The edited view's continuation of the prompt: the memo's, when the facts of a joint batch were decoded side by
     * side before, else decoded here with the parent's guess.
     */
    private int[] editedContinuation(Model edited, int[] prompt, CompletableFuture<int[]> guess) {
        int[] kept = memo.continuationOf(edited, prompt, thresholds.fluencyTokens());
        return kept != null ? kept : new GreedyGenerator(edited).generate(prompt, thresholds.fluencyTokens(), guess);
    }

    /** The future's value, with its own exception (not a wrapper) rethrown. */
    public static <T> T joinQuietly(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** P(new) against P(true) on {@code prompt}, before and after, from the pairs registered for it. */
    private static PromptCheck check(Model parent, Model edited, int[] prompt, int[] targetNew, int[] targetTrue,
            int newPair, int truePair, ScoredPrompts.Scores before, ScoredPrompts.Scores after) {
        NextTokenDistribution b = new NextTokenDistribution(before.rows(newPair)[0]);
        NextTokenDistribution a = new NextTokenDistribution(after.rows(newPair)[0]);
        return new PromptCheck(prompt,
                Math.exp(before.meanLogProb(newPair, targetNew)),
                Math.exp(before.meanLogProb(truePair, targetTrue)),
                Math.exp(after.meanLogProb(newPair, targetNew)),
                Math.exp(after.meanLogProb(truePair, targetTrue)),
                a.rank(targetNew[0]), a.rank(targetTrue[0]), top(parent, b), top(edited, a));
    }

    private NeighbourCheck neighbour(Model parent, Model edited, Probes probes, int i, ScoredPrompts.Scores before,
            ScoredPrompts.Scores after) {
        Neighbour n = probes.edit.neighbours().get(i);
        int expectedPair = probes.expectedPairs.get(i);
        NextTokenDistribution b = new NextTokenDistribution(before.rows(expectedPair)[0]);
        NextTokenDistribution a = new NextTokenDistribution(after.rows(expectedPair)[0]);
        int newPair = probes.neighbourNewPairs.get(i);
        int[] targetNew = probes.edit.targetNew();
        int expected = n.expected()[0];
        return new NeighbourCheck(n.prompt(), n.expected(), b.argmax() == expected, a.argmax() == expected,
                kl(b, a), after.meanLogProb(expectedPair, n.expected()) > after.meanLogProb(newPair, targetNew),
                before.meanLogProb(expectedPair, n.expected()) > before.meanLogProb(newPair, targetNew),
                top(parent, b), top(edited, a));
    }

    /** The text a greedy decode ({@code all}: the prompt and what followed) added after the prompt. */
    static String generated(Model model, int[] prompt, int[] all) {
        int[] generated = Arrays.copyOfRange(all, prompt.length, all.length);
        return model.hasTokenizer() ? model.tokenizer().decode(generated) : Arrays.toString(generated);
    }

    /** KL(p ‖ q) = Σ_v p_v (log p_v − log q_v), in nats. */
    public static double kl(NextTokenDistribution p, NextTokenDistribution q) {
        double sum = 0;
        for (int v = 0; v < p.vocabSize(); v++) {
            double lp = p.logProbability(v);
            sum += Math.exp(lp) * (lp - q.logProbability(v));
        }
        return Math.max(0, sum);
    }

    static List<TokenProbability> top(Model model, NextTokenDistribution d) {
        return d.topK(TOP, id -> model.hasTokenizer() ? model.tokenizer().tokenString(id) : "#" + id);
    }
}
