package dev.engram.editing;

/** An unrelated prompt that must keep its answer: its tokens and the tokens of the expected continuation. */
public record Neighbour(int[] prompt, int[] expected) {
}
