package dev.engram.trace;

import java.util.List;

/**
 * Several independent token sequences run as one: concatenated, each keeping its own positions (0, 1, ...), with an
 * attention mask that lets a token read only earlier tokens of its own sequence. The logits of the packed run equal
 * those of separate runs, at the cost of one forward pass. Row {@link #row(int, int)} of the packed logits is token
 * i of sequence s.
 */
public final class PackedSequences {
    /** The sequences as given (shared beginnings included). */
    private final List<int[]> sequences;
    private final int[] tokens;
    private final int[] positions;
    private final int[] segments;
    private final int[] starts;
    /** rowsOf[k][i]: the packed row holding token i of sequence k (a row of an earlier sequence for a shared prefix). */
    private final int[][] rowsOf;
    private final boolean sharing;

    /**
     * Packs sequence k from token shared[k] on; its first shared[k] tokens are those of sequence from[k]. Empty
     * sequences only where {@code empties} (beginnings for a {@link KvCache}, {@link #beginnings}).
     */
    private PackedSequences(List<int[]> sequences, int[] firstPositions, int[] shared, int[] from, boolean empties) {
        this.sequences = List.copyOf(sequences);
        int total = 0;
        for (int k = 0; k < sequences.size(); k++) {
            if (sequences.get(k).length == 0 && !empties) {
                throw new IllegalArgumentException("a packed sequence is empty");
            }
            total += sequences.get(k).length - shared[k];
        }
        tokens = new int[total];
        positions = new int[total];
        segments = new int[total];
        starts = new int[sequences.size()];
        rowsOf = new int[sequences.size()][];
        int at = 0;
        for (int k = 0; k < sequences.size(); k++) {
            int[] s = sequences.get(k);
            starts[k] = at;
            rowsOf[k] = new int[s.length];
            for (int i = 0; i < shared[k]; i++) {
                rowsOf[k][i] = rowsOf[from[k]][i];
            }
            for (int i = shared[k]; i < s.length; i++) {
                tokens[at] = s[i];
                positions[at] = firstPositions[k] + i;
                segments[at] = k;
                rowsOf[k][i] = at;
                at++;
            }
        }
        sharing = java.util.Arrays.stream(shared).anyMatch(n -> n > 0);
    }

    /** The sequences as given, shared beginnings included (arrays not copied: do not change them). */
    public List<int[]> sequences() {
        return sequences;
    }

    public static PackedSequences of(List<int[]> sequences) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("nothing to pack");
        }
        int n = sequences.size();
        return new PackedSequences(sequences, new int[n], new int[n], new int[n], false);
    }

    /**
     * Packs sequences that share beginnings, each shared beginning once: sequence k's longest common prefix with an
     * earlier sequence (all but its last token at most) is not packed again, and its later tokens attend to that
     * sequence's rows for those positions. In a causal model those rows hold what sequence k's own would, so every row
     * still equals a separate run's ({@link #row} maps the shared positions). For logits-only runs without a KV cache.
     */
    public static PackedSequences sharingPrefixes(List<int[]> sequences) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("nothing to pack");
        }
        int n = sequences.size();
        int[] shared = new int[n];
        int[] from = new int[n];
        for (int k = 1; k < n; k++) {
            int[] s = sequences.get(k);
            for (int j = 0; j < k; j++) {
                int[] earlier = sequences.get(j);
                int common = 0;
                while (common < s.length - 1 && common < earlier.length && s[common] == earlier[common]) {
                    common++;
                }
                if (common > shared[k]) {
                    shared[k] = common;
                    from[k] = j;
                }
            }
        }
        return new PackedSequences(sequences, new int[n], shared, from, false);
    }

    /** Whether some sequence reads another's rows for its beginning ({@link #sharingPrefixes}). */
    boolean sharesPrefixes() {
        return sharing;
    }

    /**
     * M[t, r] = 0 where packed row r holds a position at or before query row t's in t's own sequence (its rows, or the
     * shared rows it reads), −∞ elsewhere: [N, N].
     */
    float[] visibility() {
        int n = tokens.length;
        float[] mask = new float[n * n];
        java.util.Arrays.fill(mask, Float.NEGATIVE_INFINITY);
        for (int t = 0; t < n; t++) {
            int[] rows = rowsOf[segments[t]];
            for (int i = 0; i <= positions[t]; i++) {
                mask[t * n + rows[i]] = 0;
            }
        }
        return mask;
    }

    /**
     * Sequences that continue ones already run: sequence k's first token sits at position {@code firstPositions[k]}
     * (its earlier tokens are in a {@link KvCache}).
     */
    static PackedSequences continuing(List<int[]> sequences, int[] firstPositions) {
        if (sequences.isEmpty() || firstPositions.length != sequences.size()) {
            throw new IllegalArgumentException("need one first position per sequence");
        }
        int n = sequences.size();
        return new PackedSequences(sequences, firstPositions.clone(), new int[n], new int[n], false);
    }

    /**
     * Beginnings of sequences, any of them empty, packed to fill a {@link KvCache} ({@link ForwardPass#prefill}):
     * sequence k's rows are the cache's sequence k.
     */
    static PackedSequences beginnings(List<int[]> heads) {
        if (heads.isEmpty()) {
            throw new IllegalArgumentException("nothing to pack");
        }
        int n = heads.size();
        return new PackedSequences(heads, new int[n], new int[n], new int[n], true);
    }

    /**
     * Sequences that continue the beginnings {@code prefix} holds ({@link ForwardPass#prefill}), sequence k after the
     * cache's sequence k, for a run {@link ForwardPass#afterPrefix}: row {@link #row}(k, i) is token i of the
     * continuation, at position |beginning k| + i.
     */
    public static PackedSequences after(KvCache prefix, List<int[]> continuations) {
        return continuing(continuations, prefix.sequenceLengths(continuations.size()));
    }

    /** The packed row of token {@code i} of sequence {@code sequence}. */
    public int row(int sequence, int i) {
        return rowsOf[sequence][i];
    }

    public int size() {
        return starts.length;
    }

    /** The packed row of each sequence's last token, in sequence order (−1 for an empty beginning). */
    long[] lastRows() {
        long[] out = new long[starts.length];
        for (int k = 0; k < starts.length; k++) {
            out[k] = rowsOf[k].length == 0 ? -1 : rowsOf[k][rowsOf[k].length - 1];
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
            best = last < 0 ? best : Math.max(best, positions[(int) last] + 1);
        }
        return best;
    }
}
