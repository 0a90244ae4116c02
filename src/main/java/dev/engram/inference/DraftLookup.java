package dev.engram.inference;

import java.util.Arrays;

/**
 * Draft tokens looked up in a reference text (prompt-lookup decoding, Saxena 2023): find the latest place where the
 * reference holds the last n tokens generated so far (n from {@value #LONGEST_MATCH} down to 1) and propose the tokens
 * that follow it there. For an edited model the parent's continuation of the same prompt is a good reference: the two
 * texts differ around the edited fact and mostly agree elsewhere.
 */
public final class DraftLookup {
    static final int LONGEST_MATCH = 3;
    private final int[] reference;

    public DraftLookup(int[] reference) {
        this.reference = reference.clone();
    }

    /** Up to {@code count} tokens that followed the longest match of the end of {@code sequence}; none without a match. */
    public int[] propose(int[] sequence, int count) {
        for (int n = Math.min(LONGEST_MATCH, sequence.length); n >= 1; n--) {
            for (int start = reference.length - n - 1; start >= 0; start--) {
                if (Arrays.equals(reference, start, start + n, sequence, sequence.length - n, sequence.length)) {
                    int from = start + n;
                    return Arrays.copyOfRange(reference, from, Math.min(reference.length, from + count));
                }
            }
        }
        return new int[0];
    }
}
