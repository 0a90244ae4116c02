package dev.engram.verification;

import dev.engram.inference.GreedyGenerator;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.Model;
import dev.engram.runtime.ViewMemo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What verification keeps per model view for later verifications on the same view, because it depends on neither the
 * edit nor its targets: a view's greedy continuation of a prompt (prompt and continuation, per length) and its
 * next-token logits after each sentinel prompt (one row of V floats per sentinel). Keys include the view's delta, so
 * an edited view never reads its parent's entries. A single edit reads its parent's entries; a joint batch, whose facts
 * are all verified on one edited view, fills its own memo with every fact's continuations on both views first
 * ({@link #continuationsOf}), decoded side by side.
 */
public final class VerificationMemo {
    private static final VerificationMemo SHARED = new VerificationMemo(new ViewMemo<>(64), new ViewMemo<>(128));
    /** Continuations decoded side by side at most: each step's pass holds one row per sequence. */
    static final int SIDE_BY_SIDE = 32;

    final ViewMemo<int[]> continuations;
    /** At most 128 rows per base model. */
    final ViewMemo<float[][]> sentinelRows;

    private VerificationMemo(ViewMemo<int[]> continuations, ViewMemo<float[][]> sentinelRows) {
        this.continuations = continuations;
        this.sentinelRows = sentinelRows;
    }

    /** The memo every verification of this process shares unless given another. */
    public static VerificationMemo shared() {
        return SHARED;
    }

    /**
     * A memo that holds nothing yet, with room for {@code continuations} continuations (a joint batch: two per fact on
     * the parent, one on the edited view) and the sentinel rows of two views.
     */
    static VerificationMemo empty(int continuations) {
        return new VerificationMemo(new ViewMemo<>(Math.max(1, continuations)), new ViewMemo<>(256));
    }

    /**
     * A memo with this one's sentinel rows (the same for every edit) and no continuations: a verification through it
     * decodes its parent's continuation as for a prompt never verified before. For timing edits of new prompts after
     * the same prompts were verified otherwise.
     */
    public VerificationMemo withoutContinuations() {
        return new VerificationMemo(new ViewMemo<>(64), sentinelRows);
    }

    /**
     * The greedy continuation of each prompt on {@code view} for {@code tokens} tokens (the prompt and what followed,
     * as {@link GreedyGenerator#generate(int[], int)} gives it): those kept here are read, the others decoded side by
     * side, {@value #SIDE_BY_SIDE} at a time (one pass per token reads the weights once for all of them), and kept.
     */
    List<int[]> continuationsOf(Model view, List<int[]> prompts, int tokens) {
        int[][] out = new int[prompts.size()][];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            out[i] = continuations.get(view, key(prompts.get(i), tokens));
            if (out[i] == null) {
                missing.add(i);
            }
        }
        GreedyGenerator generator = new GreedyGenerator(view);
        for (int from = 0; from < missing.size(); from += SIDE_BY_SIDE) {
            Cancellation.checkpoint();
            List<Integer> group = missing.subList(from, Math.min(missing.size(), from + SIDE_BY_SIDE));
            List<int[]> decoded = generator.generateEach(group.stream().map(prompts::get).toList(), tokens);
            for (int j = 0; j < group.size(); j++) {
                out[group.get(j)] = decoded.get(j);
                continuations.put(view, key(prompts.get(group.get(j)), tokens), decoded.get(j));
            }
        }
        return List.of(out);
    }

    /** The continuation of {@code prompt} on {@code view} kept here, or null. */
    int[] continuationOf(Model view, int[] prompt, int tokens) {
        return continuations.get(view, key(prompt, tokens));
    }

    private static String key(int[] prompt, int tokens) {
        return tokens + ":" + Arrays.toString(prompt);
    }
}
