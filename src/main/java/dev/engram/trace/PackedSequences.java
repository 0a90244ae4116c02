package dev.engram.trace;

import java.util.List;

/**
 * Several independent token sequences run as one: concatenated, each keeping its own positions (0, 1, ...), with an
 * attention mask that lets a token read only earlier tokens of its own sequence. The logits of the packed run equal
 * those of separate runs, at the cost of one forward pass. Row {@link #row(int, int)} of the packed logits is token
 * i of sequence s.
 */
public final class PackedSequences {
    private final int[] tokens;
    private final int[] positions;
    private final int[] segments;
    private final int[] starts;

    private PackedSequences(List<int[]> sequences, int[] firstPositions) {
        int total = 0;
        for (int[] s : sequences) {
            if (s.length == 0) {
                throw new IllegalArgumentException("a packed sequence is empty");
            }
            total += s.length;
        }
        tokens = new int[total];
        positions = new int[total];
        segments = new int[total];
        starts = new int[sequences.size()];
        int at = 0;
        for (int k = 0; k < sequences.size(); k++) {
            int[] s = sequences.get(k);
            starts[k] = at;
            for (int i = 0; i < s.length; i++) {
                tokens[at] = s[i];
                positions[at] = firstPositions[k] + i;
                segments[at] = k;
                at++;
            }
        }
    }

    public static PackedSequences of(List<int[]> sequences) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("nothing to pack");
        }
        return new PackedSequences(sequences, new int[sequences.size()]);
    }

    /**
     * Sequences that continue ones already run: sequence k's first token sits at position {@code firstPositions[k]}
     * (its earlier tokens are in a {@link KvCache}).
     */
    static PackedSequences continuing(List<int[]> sequences, int[] firstPositions) {
        if (sequences.isEmpty() || firstPositions.length != sequences.size()) {
            throw new IllegalArgumentException("need one first position per sequence");
        }
        return new PackedSequences(sequences, firstPositions.clone());
    }

    /** The packed row of token {@code i} of sequence {@code sequence}. */
    public int row(int sequence, int i) {
        return starts[sequence] + i;
    }

    public int size() {
        return starts.length;
    }

    /** The packed row of each sequence's last token, in sequence order. */
    long[] lastRows() {
        long[] out = new long[starts.length];
        for (int k = 0; k < starts.length; k++) {
            out[k] = (k + 1 < starts.length ? starts[k + 1] : tokens.length) - 1;
        }
        return out;
    }

    int[] tokens() {
        return tokens;
    }

    int[] positions() {
        return positions;
    }

    int[] segments() {
        return segments;
    }

    /** Length of the longest sequence, counting the positions before a continuing sequence's first token. */
    int longest() {
        int best = 0;
        for (long last : lastRows()) {
            best = Math.max(best, positions[(int) last] + 1);
        }
        return best;
    }
}
