package dev.engram.verification;

import dev.engram.editing.EditCase;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.Model;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The unedited parent's side of a verification: its scores on every prompt of the edit, its greedy continuation of
 * the prompt (fluency's reference) and its continuation after target_new (the guess that speeds up the edited
 * model's decode). None of it depends on the edit's delta, so it may run while the edit is computed; what depends on
 * neither the edit nor its targets is kept per parent view.
 */
public final class ParentSide {
    private final int fluencyTokens;
    private final VerificationMemo memo;

    /**
     * @param fluencyTokens how many tokens each continuation runs
     * @param memo          where what depends on neither the edit nor its targets is kept per parent view
     */
    ParentSide(int fluencyTokens, VerificationMemo memo) {
        this.fluencyTokens = fluencyTokens;
        this.memo = memo;
    }

    /**
     * Everything verification needs from the unedited parent: its scores on every prompt and its greedy continuation.
     * It does not depend on the edit's delta, so a caller may measure it while the edit is still being computed.
     */
    ParentMeasurement measure(Model parent, EditCase edit, List<String> sentinels) {
        return measureWith(parent, new Probes(parent, edit, sentinels), sentinels, new CompletableFuture<>());
    }

    /**
     * The parent's two continuations first (completing {@code guess} as soon as they are there), then its scores on
     * every prompt.
     */
    private ParentMeasurement measureWith(Model parent, Probes probes, List<String> sentinels,
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
     * edit changes the answer and little after it. Those the memo does not hold decode side by side.
     */
    private String continuationAndGuess(Model parent, EditCase edit, CompletableFuture<int[]> guess) {
        int[] prompt = edit.prompt();
        List<int[]> both = memo.continuationsOf(parent, decodedPrompts(edit), fluencyTokens);
        int[] after = both.get(1);
        guess.complete(Arrays.copyOfRange(after, prompt.length, Math.min(after.length, prompt.length + fluencyTokens)));
        return Verifier.generated(parent, prompt, both.get(0));
    }

    /** The prompts the parent continues for one edit: the prompt, and the prompt with target_new after it. */
    static List<int[]> decodedPrompts(EditCase edit) {
        int[] prompt = edit.prompt();
        int[] withTarget = Arrays.copyOf(prompt, prompt.length + edit.targetNew().length);
        System.arraycopy(edit.targetNew(), 0, withTarget, prompt.length, edit.targetNew().length);
        return List.of(prompt, withTarget);
    }

    /** The parent's scores on every prompt; the sentinel prompts, the same for every edit, are scored once per view. */
    private ScoredPrompts.Scores scores(Model parent, Probes probes) {
        return probes.score(parent, memo.sentinelRows);
    }

    /**
     * {@link #measure} started on a background thread: the prompts are registered at once, so the edited side
     * can be scored on them before the parent's side has finished.
     */
    StartedParent start(Model parent, EditCase edit, List<String> sentinels) {
        Probes probes = new Probes(parent, edit, sentinels);
        CompletableFuture<int[]> guess = new CompletableFuture<>();
        return new StartedParent(probes, guess, CompletableFuture.supplyAsync(Cancellation.carried(
                () -> measureWith(parent, probes, sentinels, guess)), Verifier.BACKGROUND));
    }

    /**
     * A parent measurement under way ({@link #startParent}), the prompts it scores, and the guess of the edited model's
     * continuation it completes first.
     */
    public static final class StartedParent {
        final Probes probes;
        final CompletableFuture<int[]> guess;
        final CompletableFuture<ParentMeasurement> measurement;

        StartedParent(Probes probes, CompletableFuture<int[]> guess,
                CompletableFuture<ParentMeasurement> measurement) {
            this.probes = probes;
            this.guess = guess;
            this.measurement = measurement;
        }
    }

    /** The parent's side of one verification ({@link #measure}). */
    public static final class ParentMeasurement {
        final Model parent;
        final List<String> sentinels;
        final Probes probes;
        final ScoredPrompts.Scores before;
        final String continuation;
        /** The tokens the parent says after the prompt once target_new is said: target_new, then its continuation. */
        final int[] guess;

        ParentMeasurement(Model parent, List<String> sentinels, Probes probes, ScoredPrompts.Scores before,
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
}
