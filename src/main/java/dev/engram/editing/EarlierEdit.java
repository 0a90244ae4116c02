package dev.engram.editing;

/**
 * An edit accepted earlier on the lineage a new edit is made on: its prompt must still give {@code targetNew} over
 * {@code targetTrue} once the new edit is applied. Verification re-scores it; training never sees it.
 *
 * @param prompt     the earlier edit's prompt (the model's conventions applied)
 * @param targetNew  the answer that edit installed
 * @param targetTrue the answer it replaced
 */
public record EarlierEdit(int[] prompt, int[] targetNew, int[] targetTrue) {
}
