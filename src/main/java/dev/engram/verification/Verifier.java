package dev.engram.verification;

import dev.engram.runtime.Cancellation;
import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.inference.GreedyGenerator;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.runtime.ThreadPriority;
import dev.engram.runtime.ViewMemo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Measures an edited model against its unedited parent on the edit prompt (efficacy), the paraphrases
 * (generalisation), the neighbours and the model's sentinel prompts (specificity) and a greedy continuation
 * (fluency), and decides each gate by {@link GateThresholds}. Reads both models; changes neither.
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
    /**
     * What the parent's side measures that depends on neither the edit nor its targets, kept per parent view for later
     * edits of it: its greedy continuation of a prompt (prompt and continuation, per length) and its next-token logits
     * after each sentinel prompt (22 rows of V floats for SmolLM2, 4.3 MB a view; at most 128 rows per base model).
     */
    private static final ViewMemo<int[]> PARENT_CONTINUATIONS = new ViewMemo<>(64);
    private static final ViewMemo<float[][]> SENTINEL_ROWS = new ViewMemo<>(128);

    /**
     * Forgets the parents' continuations kept for later edits, so that the next edit of any view decodes its parent's
     * continuation as for a prompt never verified before. For benchmarks that time edits of new prompts after the same
     * prompts were verified otherwise (the sentinel rows, the same for every edit, are kept).
     */
    public static void forgetKeptContinuations() {
        PARENT_CONTINUATIONS.clear();
    }

    public Verifier(GateThresholds thresholds) {
        this.thresholds = thresholds;
    }

    public VerificationReport verify(Model parent, Model edited, EditCase edit, List<String> sentinels) {
        return verify(measureParent(parent, edit, sentinels), edited);
    }

    /**
     * Everything verification needs from the unedited parent: its scores on every prompt and its greedy continuation.
     * It does not depend on the edit's delta, so a caller may measure it while the edit is still being computed.
     */
    public ParentMeasurement measureParent(Model parent, EditCase edit, List<String> sentinels) {
        return measure(parent, new Probes(parent, edit, sentinels), sentinels, new CompletableFuture<>());
    }

    /**
     * The parent's two continuations first (completing {@code guess} as soon as they are there), then its scores on
     * every prompt.
     */
    private ParentMeasurement measure(Model parent, Probes probes, List<String> sentinels,
            CompletableFuture<int[]> guess) {
        String continuation;
        try {
            continuation = continuationAndGuess(parent, probes.edit, guess);
        } catch (RuntimeException | Error e) {
            guess.completeExceptionally(e);
            throw e;
        }
        return new ParentMeasurement(parent, sentinels, probes, scores(parent, probes), continuation, guess.join());
    }

    /**
     * The parent's continuation of the prompt (fluency's reference), and the guess it completes: what the parent says
     * once target_new is said (target_new, then its continuation of the prompt with target_new after it), since an
     * edit changes the answer and little after it. The two decode side by side unless an earlier edit of this view
     * decoded the first.
     */
    private String continuationAndGuess(Model parent, EditCase edit, CompletableFuture<int[]> guess) {
        int[] prompt = edit.prompt();
        int[] withTarget = Arrays.copyOf(prompt, prompt.length + edit.targetNew().length);
        System.arraycopy(edit.targetNew(), 0, withTarget, prompt.length, edit.targetNew().length);
        int tokens = thresholds.fluencyTokens();
        String key = tokens + ":" + Arrays.toString(prompt);
        int[] parentAll = PARENT_CONTINUATIONS.get(parent, key);
        int[] after;
        if (parentAll == null) {
            List<int[]> both = new GreedyGenerator(parent).generateEach(List.of(prompt, withTarget), tokens);
            parentAll = both.get(0);
            PARENT_CONTINUATIONS.put(parent, key, parentAll);
            after = both.get(1);
        } else {
            after = new GreedyGenerator(parent).generate(withTarget, tokens);
        }
        guess.complete(Arrays.copyOfRange(after, prompt.length, Math.min(after.length, prompt.length + tokens)));
        return generated(parent, prompt, parentAll);
    }

    /** The parent's scores on every prompt; the sentinel prompts, the same for every edit, are scored once per view. */
    private static ScoredPrompts.Scores scores(Model parent, Probes probes) {
        Map<Integer, String> sentinelKeys = new HashMap<>();
        probes.sentinelPairs.forEach(k -> sentinelKeys.put(k, Arrays.toString(probes.batch.tokens(k))));
        ScoredPrompts.Scores before = probes.batch.run(parent,
                k -> sentinelKeys.containsKey(k) ? SENTINEL_ROWS.get(parent, sentinelKeys.get(k)) : null);
        sentinelKeys.forEach((k, key) -> SENTINEL_ROWS.put(parent, key, before.rows(k)));
        return before;
    }

    /**
     * {@link #measureParent} started on a background thread: the prompts are registered at once, so the edited side
     * can be scored on them before the parent's side has finished.
     */
    public StartedParent startParent(Model parent, EditCase edit, List<String> sentinels) {
        Probes probes = new Probes(parent, edit, sentinels);
        CompletableFuture<int[]> guess = new CompletableFuture<>();
        return new StartedParent(probes, guess, CompletableFuture.supplyAsync(Cancellation.carried(
                () -> measure(parent, probes, sentinels, guess)), BACKGROUND));
    }

    /**
     * A parent measurement under way ({@link #startParent}), the prompts it scores, and the guess of the edited model's
     * continuation it completes first.
     */
    public static final class StartedParent {
        private final Probes probes;
        private final CompletableFuture<int[]> guess;
        private final CompletableFuture<ParentMeasurement> measurement;

        private StartedParent(Probes probes, CompletableFuture<int[]> guess,
                CompletableFuture<ParentMeasurement> measurement) {
            this.probes = probes;
            this.guess = guess;
            this.measurement = measurement;
        }
    }

    /** The parent's side of one verification ({@link #measureParent}). */
    public static final class ParentMeasurement {
        private final Model parent;
        private final List<String> sentinels;
        private final Probes probes;
        private final ScoredPrompts.Scores before;
        private final String continuation;
        /** The tokens the parent says after the prompt once target_new is said: target_new, then its continuation. */
        private final int[] guess;

        private ParentMeasurement(Model parent, List<String> sentinels, Probes probes, ScoredPrompts.Scores before,
                String continuation, int[] guess) {
            this.parent = parent;
            this.sentinels = sentinels;
            this.probes = probes;
            this.before = before;
            this.continuation = continuation;
            this.guess = guess;
        }

        /** The guess of the edited model's continuation: the tokens the parent says after the prompt and target_new. */
        int[] guess() {
            return guess.clone();
        }
    }

    /** Measures {@code edited} against a parent measured before. */
    public VerificationReport verify(ParentMeasurement parentSide, Model edited) {
        return verify(new StartedParent(parentSide.probes, CompletableFuture.completedFuture(parentSide.guess),
                CompletableFuture.completedFuture(parentSide)), edited);
    }

    /**
     * Measures {@code edited} against a parent whose measurement may still be running. The edited model's greedy
     * continuation starts at once on a second thread and its packed pass over every prompt runs here, neither waiting
     * for the parent's side: decoding is bound by reading the weights once per token, not by arithmetic, so the
     * continuation overlaps the packed pass on a 2-core machine. The continuation checks the parent's guess of it
     * several tokens per pass once the guess is there ({@link GreedyGenerator#generate(int[], int, CompletableFuture)}).
     * Only the comparison waits for the parent.
     */
    public VerificationReport verify(StartedParent started, Model edited) {
        long start = System.nanoTime();
        Probes probes = started.probes;
        EditCase edit = probes.edit;
        CompletableFuture<String> editedText = CompletableFuture.supplyAsync(Cancellation.carried(
                () -> generated(edited, edit.prompt(), new GreedyGenerator(edited).generate(edit.prompt(),
                        thresholds.fluencyTokens(), started.guess))), BACKGROUND);
        ScoredPrompts.Scores after = probes.batch.run(edited);
        ParentMeasurement parentSide = joinQuietly(started.measurement);
        Model parent = parentSide.parent;
        ScoredPrompts.Scores before = parentSide.before;
        List<PromptCheck> checks = new ArrayList<>();
        for (int i = 0; i < probes.checkPrompts.size(); i++) {
            checks.add(check(parent, edited, probes, i, before, after));
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
        VerificationReport draft = new VerificationReport(efficacy, paraphrases, neighbours, sentinelChecks, fluency,
                List.of(), 0);
        return new VerificationReport(efficacy, paraphrases, neighbours, sentinelChecks, fluency, gates(draft),
                (System.nanoTime() - start) / 1_000_000);
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

    /** The prompts of one verification, registered once in a packed batch, and where each pair sits in it. */
    private static final class Probes {
        final ScoredPrompts batch = new ScoredPrompts();
        final EditCase edit;
        final List<int[]> checkPrompts = new ArrayList<>();
        final List<int[]> sentinelTokens = new ArrayList<>();
        final List<Integer> newPairs = new ArrayList<>();
        final List<Integer> truePairs = new ArrayList<>();
        final List<Integer> expectedPairs = new ArrayList<>();
        final List<Integer> neighbourNewPairs = new ArrayList<>();
        final List<Integer> sentinelPairs = new ArrayList<>();

        Probes(Model parent, EditCase edit, List<String> sentinels) {
            this.edit = edit;
            checkPrompts.add(edit.prompt());
            checkPrompts.addAll(edit.paraphrases());
            if (parent.hasTokenizer()) {
                sentinels.forEach(s -> sentinelTokens.add(parent.tokenizer().encodePrompt(s)));
            }
            for (int[] p : checkPrompts) {
                newPairs.add(batch.add(p, edit.targetNew()));
                truePairs.add(batch.add(p, edit.targetTrue()));
            }
            for (Neighbour n : edit.neighbours()) {
                expectedPairs.add(batch.add(n.prompt(), n.expected()));
                neighbourNewPairs.add(batch.add(n.prompt(), edit.targetNew()));
            }
            sentinelTokens.forEach(t -> sentinelPairs.add(batch.add(t, new int[0])));
        }
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

    private PromptCheck check(Model parent, Model edited, Probes probes, int i, ScoredPrompts.Scores before,
            ScoredPrompts.Scores after) {
        EditCase edit = probes.edit;
        int newPair = probes.newPairs.get(i);
        int truePair = probes.truePairs.get(i);
        NextTokenDistribution b = new NextTokenDistribution(before.rows(newPair)[0]);
        NextTokenDistribution a = new NextTokenDistribution(after.rows(newPair)[0]);
        return new PromptCheck(probes.checkPrompts.get(i),
                Math.exp(before.meanLogProb(newPair, edit.targetNew())),
                Math.exp(before.meanLogProb(truePair, edit.targetTrue())),
                Math.exp(after.meanLogProb(newPair, edit.targetNew())),
                Math.exp(after.meanLogProb(truePair, edit.targetTrue())),
                a.rank(edit.targetNew()[0]), a.rank(edit.targetTrue()[0]), top(parent, b), top(edited, a));
    }

    private NeighbourCheck neighbour(Model parent, Model edited, Probes probes, int i, ScoredPrompts.Scores before,
            ScoredPrompts.Scores after) {
        Neighbour n = probes.edit.neighbours().get(i);
        int expectedPair = probes.expectedPairs.get(i);
        NextTokenDistribution b = new NextTokenDistribution(before.rows(expectedPair)[0]);
        NextTokenDistribution a = new NextTokenDistribution(after.rows(expectedPair)[0]);
        double expectedAfter = after.meanLogProb(expectedPair, n.expected());
        double newAfter = after.meanLogProb(probes.neighbourNewPairs.get(i), probes.edit.targetNew());
        int expected = n.expected()[0];
        return new NeighbourCheck(n.prompt(), n.expected(), b.argmax() == expected, a.argmax() == expected,
                kl(b, a), expectedAfter > newAfter, top(parent, b), top(edited, a));
    }

    /** The text a greedy decode ({@code all}: the prompt and what followed) added after the prompt. */
    private static String generated(Model model, int[] prompt, int[] all) {
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

    private static List<TokenProbability> top(Model model, NextTokenDistribution d) {
        return d.topK(TOP, id -> model.hasTokenizer() ? model.tokenizer().tokenString(id) : "#" + id);
    }
}
