package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;

/**
 * Keys (after RoPE) and values of every layer for the positions run so far, so that generation runs each new token
 * once instead of re-running the whole prefix. Shapes per layer: [T, n_kv_heads, d_head]. Owns its arrays.
 *
 * <p>A cache may hold several sequences decoded side by side ({@link ForwardPass#extend(java.util.List, KvCache)}):
 * their rows interleave in the order they were run, and the cache remembers which sequence each row belongs to, so
 * the attention mask lets a row read only its own sequence's rows.
 */
public final class KvCache implements AutoCloseable {
    enum Part { KEY, VALUE }

    private final NDManager manager;
    private final NDArray[][] parts;
    private int length;
    private int[] segments = new int[16];
    private int[] sequenceLengths = new int[0];

    public KvCache(Model model) {
        this.manager = model.weights().manager().newSubManager();
        this.parts = new NDArray[Part.values().length][model.config().nLayers()];
    }

    /** Positions held. */
    public int length() {
        return length;
    }

    /** Cached rows followed by {@code fresh} [n, n_kv, d_head]; the cache keeps the result, the caller gets it too. */
    NDArray append(int layer, NDArray fresh, Part part) {
        NDArray old = parts[part.ordinal()][layer];
        NDArray all = old == null ? fresh.duplicate() : old.concat(fresh, 0);
        NDScope.unregister(all);
        all.attach(manager);
        if (old != null) {
            old.close();
        }
        parts[part.ordinal()][layer] = all;
        return all;
    }

    /** Cached rows followed by {@code fresh} [n, n_kv, d_head], the cache unchanged (fresh alone when it is empty). */
    NDArray before(int layer, NDArray fresh, Part part) {
        NDArray old = parts[part.ordinal()][layer];
        return old == null ? fresh : old.concat(fresh, 0);
    }

    /** Records rows just run, each belonging to the sequence {@code segments[i]}. */
    void advance(int[] newSegments) {
        if (segments.length < length + newSegments.length) {
            segments = java.util.Arrays.copyOf(segments, Math.max(2 * segments.length, length + newSegments.length));
        }
        for (int s : newSegments) {
            if (s >= sequenceLengths.length) {
                sequenceLengths = java.util.Arrays.copyOf(sequenceLengths, s + 1);
            }
            sequenceLengths[s]++;
            segments[length++] = s;
        }
    }

    /**
     * Forgets every position from {@code keep} on, as if only the first {@code keep} had been run: for a decoder that
     * ran draft tokens and keeps only those it accepted. One sequence only.
     */
    public void truncate(int keep) {
        if (keep < 0 || keep > length) {
            throw new IllegalArgumentException("cannot keep " + keep + " of " + length + " cached positions");
        }
        if (sequenceLengths.length > 1 && sequenceLengths[1] > 0) {
            throw new IllegalStateException("the cache holds several sequences; only a single one can be truncated");
        }
        for (NDArray[] part : parts) {
            for (int layer = 0; layer < part.length; layer++) {
                if (part[layer] != null && keep < length) {
                    NDArray kept = part[layer].get(new ai.djl.ndarray.index.NDIndex(":{}", keep)).duplicate();
                    NDScope.unregister(kept);
                    kept.attach(manager);
                    part[layer].close();
                    part[layer] = kept;
                }
            }
        }
        length = keep;
        if (sequenceLengths.length > 0) {
            sequenceLengths[0] = keep;
        }
    }

    /** The sequence of every cached row, in row order. */
    int[] segments() {
        return java.util.Arrays.copyOf(segments, length);
    }

    /** Tokens held for each of the first {@code sequences} sequences (0 for one not started). */
    int[] sequenceLengths(int sequences) {
        return java.util.Arrays.copyOf(sequenceLengths, sequences);
    }

    @Override
    public void close() {
        manager.close();
    }
}
