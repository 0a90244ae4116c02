package dev.engram.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sparse additive change to a model's weights: an immutable value, validated when built, that carries the
 * vectors it replaces (as ROME's deltas carry their originals). Matrices are [in, out]: a ROW entry changes the
 * vector that input unit {@code index} writes (an FFN or attention subvalue); a COLUMN entry changes the vector
 * that output unit {@code index} reads (a subkey). Entries are kept in a canonical order, so equal deltas have
 * equal {@link #hash()}es.
 */
public final class WeightDelta {

    public enum Slice { ROW, COLUMN }

    /** Where one edited vector lives. */
    public record Key(int layer, Param param, Slice slice, int index) {
        static final Comparator<Key> ORDER = Comparator.comparingInt(Key::layer).thenComparing(Key::param)
                .thenComparing(Key::slice).thenComparingInt(Key::index);

        @Override
        public String toString() {
            return "layer " + layer + " " + param + " " + slice + " " + index;
        }
    }

    /**
     * W[index, :] (ROW) or W[:, index] (COLUMN) of {@code key.layer()}'s {@code key.param()} goes from
     * {@code original} to {@code original + change}. The arrays are private copies; the accessors copy again.
     */
    public static final class Entry {
        private final Key key;
        private final float[] original;
        private final float[] change;

        private Entry(Key key, float[] original, float[] change) {
            this.key = key;
            this.original = original.clone();
            this.change = change.clone();
        }

        public Key key() {
            return key;
        }

        public int layer() {
            return key.layer();
        }

        public Param param() {
            return key.param();
        }

        public Slice slice() {
            return key.slice();
        }

        public int index() {
            return key.index();
        }

        public float[] original() {
            return original.clone();
        }

        public float[] change() {
            return change.clone();
        }

        /** original + change. */
        public float[] updated() {
            float[] out = new float[change.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = original[i] + change[i];
            }
            return out;
        }

        /** ‖change‖₂. */
        public double changeNorm() {
            return l2(change);
        }

        /** ‖original‖. */
        public double originalNorm() {
            return l2(original);
        }

        /** Element i of the change, without copying. */
        public float changeAt(int i) {
            return change[i];
        }

        public int length() {
            return change.length;
        }
    }

    private static final WeightDelta NONE = new WeightDelta(List.of());

    private final List<Entry> entries;
    private final Map<Key, Entry> byKey;
    private final String hash;

    private WeightDelta(List<Entry> sorted) {
        this.entries = Collections.unmodifiableList(sorted);
        Map<Key, Entry> map = new LinkedHashMap<>();
        sorted.forEach(e -> map.put(e.key(), e));
        this.byKey = Collections.unmodifiableMap(map);
        this.hash = contentHash(sorted);
    }

    public static WeightDelta none() {
        return NONE;
    }

    /** A builder that checks every entry against {@code config}'s shapes; originals are given with each entry. */
    public static Builder builder(ModelConfig config) {
        return new Builder(config, null);
    }

    /** A builder whose {@link Builder#add(int, Param, Slice, int, float[])} reads each original from {@code originals}. */
    public static Builder builder(ModelConfig config, java.util.function.Function<Key, float[]> originals) {
        return new Builder(config, originals);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** The entry at {@code key}, or null. */
    public Entry get(Key key) {
        return byKey.get(key);
    }

    /** The entries of one matrix and slice, in index order. */
    public List<Entry> at(int layer, Param param, Slice slice) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.layer() == layer && e.param() == param && e.slice() == slice) {
                out.add(e);
            }
        }
        return out;
    }

    /** Whether any entry touches {@code layer}'s {@code param}. */
    public boolean touches(int layer, Param param) {
        for (Entry e : entries) {
            if (e.layer() == layer && e.param() == param) {
                return true;
            }
        }
        return false;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Number of weight values this delta changes (vector lengths summed; an element shared by a row and a column counts twice). */
    public long parametersTouched() {
        long n = 0;
        for (Entry e : entries) {
            n += e.length();
        }
        return n;
    }

    /** sqrt(Σ ‖change‖²) over all entries (the Frobenius norm of the whole delta). */
    public double norm() {
        double s = 0;
        for (Entry e : entries) {
            double n = e.changeNorm();
            s += n * n;
        }
        return Math.sqrt(s);
    }

    /**
     * This delta followed by {@code child}, a delta made on the weights this one produces: still sparse. A vector in
     * both keeps this delta's original and the sum of the changes; the rest are taken as they are.
     */
    public WeightDelta then(WeightDelta child) {
        if (child.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return child;
        }
        Map<Key, Entry> merged = new LinkedHashMap<>(byKey);
        for (Entry c : child.entries) {
            Entry mine = merged.get(c.key());
            if (mine == null) {
                merged.put(c.key(), c);
            } else {
                float[] sum = new float[c.length()];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] = mine.change[i] + c.change[i];
                }
                merged.put(c.key(), new Entry(c.key(), mine.original, sum));
            }
        }
        List<Entry> sorted = new ArrayList<>(merged.values());
        sorted.sort(Comparator.comparing(Entry::key, Key.ORDER));
        return new WeightDelta(sorted);
    }

    /** SHA-256 (hex) over the canonical entries: key, original and change of each. */
    public String hash() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightDelta d && d.hash.equals(hash);
    }

    @Override
    public int hashCode() {
        return hash.hashCode();
    }

    @Override
    public String toString() {
        return "WeightDelta[" + entries.size() + " vectors, " + parametersTouched() + " parameters, "
                + hash.substring(0, 12) + "]";
    }

    private static double l2(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    private static String contentHash(List<Entry> sorted) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Entry e : sorted) {
                ByteBuffer head = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
                head.putInt(e.layer()).putInt(e.param().ordinal()).putInt(e.slice().ordinal()).putInt(e.index())
                        .putInt(e.length());
                sha.update(head.array());
                ByteBuffer body = ByteBuffer.allocate(8 * e.length()).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : e.original) {
                    body.putFloat(f);
                }
                for (float f : e.change) {
                    body.putFloat(f);
                }
                sha.update(body.array());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Collects entries, checking each against the model's shapes; {@link #build()} yields the immutable delta. */
    public static final class Builder {
        private final ModelConfig config;
        private final java.util.function.Function<Key, float[]> originals;
        private final Map<Key, Entry> entries = new LinkedHashMap<>();

        private Builder(ModelConfig config, java.util.function.Function<Key, float[]> originals) {
            this.config = config;
            this.originals = originals;
        }

        /** Adds an entry whose original is read from the builder's source (the weights being edited). */
        public Builder add(int layer, Param param, Slice slice, int index, float[] change) {
            if (originals == null) {
                throw new IllegalStateException("this builder has no source of originals; pass them with each entry");
            }
            checkRange(new Key(layer, param, slice, index));
            return add(layer, param, slice, index, originals.apply(new Key(layer, param, slice, index)), change);
        }

        /**
         * Adds W[index, :] (ROW) or W[:, index] (COLUMN) ← original + change. Throws IllegalArgumentException when the
         * layer, matrix, index or length is out of range for the model, a value is not finite, or the key repeats.
         */
        public Builder add(int layer, Param param, Slice slice, int index, float[] original, float[] change) {
            Key key = new Key(layer, param, slice, index);
            int length = checkRange(key);
            if (change.length != length || original.length != length) {
                throw new IllegalArgumentException("weight delta " + key + ": vectors must have length " + length
                        + ", got change " + change.length + " and original " + original.length);
            }
            requireFinite(key, "change", change);
            requireFinite(key, "original", original);
            if (entries.containsKey(key)) {
                throw new IllegalArgumentException("weight delta " + key + ": appears twice");
            }
            entries.put(key, new Entry(key, original, change));
            return this;
        }

        /** Checks layer, matrix and index against the model; returns the vector length the key needs. */
        private int checkRange(Key key) {
            int layer = key.layer();
            Param param = key.param();
            Slice slice = key.slice();
            int index = key.index();
            if (layer < 0 || layer >= config.nLayers()) {
                throw new IllegalArgumentException("weight delta " + key + ": layer is outside [0, "
                        + config.nLayers() + ")");
            }
            if (param == Param.FFN_GATE && !config.family().feedForward().gated()) {
                throw new IllegalArgumentException("weight delta " + key + ": " + config.family()
                        + " models have no FFN gate");
            }
            int[] shape = config.matrixShape(param);
            int count = slice == Slice.ROW ? shape[0] : shape[1];
            int length = slice == Slice.ROW ? shape[1] : shape[0];
            if (index < 0 || index >= count) {
                throw new IllegalArgumentException("weight delta " + key + ": index is outside [0, " + count + ")");
            }
            return length;
        }

        /**
         * The delta. A matrix may have ROW entries or COLUMN entries but not both: their vectors would share elements,
         * and an entry's original and updated vectors would no longer be what the matrix holds before and after.
         */
        public WeightDelta build() {
            if (entries.isEmpty()) {
                return NONE;
            }
            Map<String, Slice> sliceOfMatrix = new java.util.HashMap<>();
            for (Key key : entries.keySet()) {
                Slice other = sliceOfMatrix.putIfAbsent(key.layer() + " " + key.param(), key.slice());
                if (other != null && other != key.slice()) {
                    throw new IllegalArgumentException("weight delta " + key + ": layer " + key.layer() + " "
                            + key.param() + " has both ROW and COLUMN entries");
                }
            }
            List<Entry> sorted = new ArrayList<>(entries.values());
            sorted.sort(Comparator.comparing(Entry::key, Key.ORDER));
            return new WeightDelta(sorted);
        }

        private static void requireFinite(Key key, String what, float[] values) {
            for (float f : values) {
                if (!Float.isFinite(f)) {
                    throw new IllegalArgumentException("weight delta " + key + ": " + what + " is not finite");
                }
            }
        }
    }
}
