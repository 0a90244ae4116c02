package dev.engram.verification;

import dev.engram.runtime.ViewMemo;

/**
 * What the parent's side of verification keeps per parent view for later edits of it, because it depends on neither
 * the edit nor its targets: the parent's greedy continuation of a prompt (prompt and continuation, per length) and its
 * next-token logits after each sentinel prompt (one row of V floats per sentinel). Keys include the view's delta, so
 * an edited view never reads its parent's entries.
 */
public final class ParentMemo {
    private static final ParentMemo SHARED = new ParentMemo(new ViewMemo<>(64), new ViewMemo<>(128));

    final ViewMemo<int[]> continuations;
    /** At most 128 rows per base model. */
    final ViewMemo<float[][]> sentinelRows;

    private ParentMemo(ViewMemo<int[]> continuations, ViewMemo<float[][]> sentinelRows) {
        this.continuations = continuations;
        this.sentinelRows = sentinelRows;
    }

    /** The memo every verification of this process shares unless given another. */
    public static ParentMemo shared() {
        return SHARED;
    }

    /**
     * A memo with this one's sentinel rows (the same for every edit) and no continuations: a verification through it
     * decodes its parent's continuation as for a prompt never verified before. For timing edits of new prompts after
     * the same prompts were verified otherwise.
     */
    public ParentMemo withoutContinuations() {
        return new ParentMemo(new ViewMemo<>(64), sentinelRows);
    }
}
