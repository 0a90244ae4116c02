package dev.engram.trace;

import dev.engram.runtime.Param;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A sparse additive change to a model's weights, applied during the forward pass without copying any matrix.
 * Matrices are [in, out]: a ROW delta changes the vector that input unit {@code index} writes (an FFN or
 * attention subvalue); a COLUMN delta changes the vector that output unit {@code index} reads (a subkey).
 */
public final class WeightDelta {

    public enum Slice { ROW, COLUMN }

    /** W[index, :] += vector (ROW) or W[:, index] += vector (COLUMN) in layer {@code layer}'s {@code param}. */
    public record Entry(int layer, Param param, Slice slice, int index, float[] vector) {
        public Entry {
            for (float f : vector) {
                if (!Float.isFinite(f)) {
                    throw new IllegalArgumentException("weight delta for layer " + layer + " " + param + " "
                            + slice + " " + index + " is not finite");
                }
            }
            vector = vector.clone();
        }
    }

    private final List<Entry> entries = new ArrayList<>();

    public static WeightDelta none() {
        return new WeightDelta();
    }

    public WeightDelta add(int layer, Param param, Slice slice, int index, float[] vector) {
        entries.add(new Entry(layer, param, slice, index, vector));
        return this;
    }

    public List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }

    List<Entry> at(int layer, Param param, Slice slice) {
        return entries.stream()
                .filter(e -> e.layer() == layer && e.param() == param && e.slice() == slice)
                .toList();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
