package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/** The additive attention masks of a run, and the row masks that give each packed sequence its own view. */
final class AttentionMasks {
    private AttentionMasks() {
    }

    /**
     * M[t, s] = 0 where s ≤ offset + t, −∞ where s > offset + t (a query never reads a later position); query t sits at
     * cache index offset + t, sources at 0 .. offset + seqLen − 1. Packed sequences also mask every source of another
     * sequence: M[t, s] = −∞ where segment(s) ≠ segment(t), with segments indexed by cache row (query t is row
     * offset + t).
     */
    static NDArray causal(NDManager manager, int seqLen, int offset, int[] segments) {
        int sources = offset + seqLen;
        float[] data = new float[seqLen * sources];
        for (int t = 0; t < seqLen; t++) {
            for (int s = 0; s < sources; s++) {
                boolean later = s > offset + t;
                boolean otherSequence = segments != null && segments[s] != segments[offset + t];
                if (later || otherSequence) {
                    data[t * sources + s] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        return manager.create(data, new Shape(seqLen, sources));
    }

    /** The sequence of every attention source (cached rows, then new ones), or null for one sequence. */
    static int[] segments(KvCache cache, PackedSequences packed) {
        if (packed == null) {
            return null;
        }
        if (cache == null) {
            return packed.segments();
        }
        int[] cached = cache.segments();
        int[] all = java.util.Arrays.copyOf(cached, cached.length + packed.segments().length);
        System.arraycopy(packed.segments(), 0, all, cached.length, packed.segments().length);
        return all;
    }

    /** Per view k of {@code views} views: [rows, 1], 1 on the rows of packed sequence k, 0 elsewhere. */
    static List<NDArray> viewRows(NDManager manager, PackedSequences packed, int views) {
        if (packed == null) {
            throw new IllegalArgumentException("a pass over several views runs packed sequences");
        }
        if (packed.size() != views) {
            throw new IllegalArgumentException(packed.size() + " sequences for " + views + " views");
        }
        int[] segments = packed.segments();
        List<NDArray> masks = new ArrayList<>();
        for (int k = 0; k < views; k++) {
            float[] ones = new float[segments.length];
            for (int i = 0; i < segments.length; i++) {
                ones[i] = segments[i] == k ? 1f : 0f;
            }
            masks.add(Recorder.keep(manager.create(ones, new Shape(segments.length, 1)), manager));
        }
        return masks;
    }
}
