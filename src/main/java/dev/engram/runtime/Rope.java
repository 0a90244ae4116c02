package dev.engram.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rotary position embedding. Pair i of a head (i = 0 .. d_head/2 − 1) at position t is rotated by the angle
 * θ_{t,i} = t · base^(−2i/d_head): (a, b) ↦ (a·cos θ − b·sin θ, a·sin θ + b·cos θ). The layout decides which
 * two dimensions form pair i.
 */
public final class Rope {
    private Rope() {
    }

    /** Rotates x of shape [T, heads, d_head], whose row t sits at position t. */
    public static NDArray apply(NDArray x, ModelConfig config) {
        return apply(x, config, 0);
    }

    /** Rotates x of shape [T, heads, d_head], whose row t sits at position offset + t. */
    public static NDArray apply(NDArray x, ModelConfig config, int offset) {
        int[] positions = new int[(int) x.getShape().get(0)];
        for (int t = 0; t < positions.length; t++) {
            positions[t] = offset + t;
        }
        return apply(x, config, positions);
    }

    /**
     * Rotates x of shape [T, heads, d_head], whose row t sits at position {@code positions[t]}, as
     * x ⊙ C + partner(x) ⊙ S: C holds cos θ at both dimensions of each pair, S holds −sin θ at the pair's first
     * dimension and +sin θ at its second, and partner(x) swaps the two dimensions of every pair. That is
     * (a, b) ↦ (a·cos θ − b·sin θ, b·cos θ + a·sin θ) for each pair in one pass, with tables made once per model shape.
     */
    public static NDArray apply(NDArray x, ModelConfig config, int[] positions) {
        int seqLen = (int) x.getShape().get(0);
        int dh = config.headDim();
        Tables tables = TABLES.computeIfAbsent(
                new TableKey(config.ropeTheta(), dh, config.maxSeqLen(), config.ropeLayout()), Rope::tables);
        NDArray c = rows(tables.cos(), positions, x.getManager()).reshape(seqLen, 1, dh);
        NDArray s = rows(tables.sin(), positions, x.getManager()).reshape(seqLen, 1, dh);
        return x.mul(c).add(partner(x, config).mul(s));
    }

    /** Adjacent pairs (2i, 2i+1) swapped within each pair; rotate-half pairs (i, i + d/2) swapped across the halves. */
    private static NDArray partner(NDArray x, ModelConfig config) {
        Shape shape = x.getShape();
        int half = config.headDim() / 2;
        if (config.ropeLayout() == RopeLayout.ADJACENT) {
            return x.reshape(shape.get(0), shape.get(1), half, 2).flip(3).reshape(shape);
        }
        return x.get(new NDIndex("..., {}:", half)).concat(x.get(new NDIndex("..., :{}", half)), 2);
    }

    private record TableKey(double theta, int headDim, int positions, RopeLayout layout) {
    }

    /** C and S of {@link #apply} for every position t of the context, [positions, d_head], in the key's layout. */
    private record Tables(NDArray cos, NDArray sin) {
    }

    private static final Map<TableKey, Tables> TABLES = new ConcurrentHashMap<>();

    /**
     * θ_{t,i} = t · base^(−2i/d_head), computed once per (base, d_head, context, layout) and kept as process
     * constants: pair i occupies dimensions (2i, 2i+1) in the adjacent layout and (i, i + d_head/2) in rotate-half.
     */
    private static Tables tables(TableKey key) {
        int dh = key.headDim();
        int half = dh / 2;
        float[] cos = new float[key.positions() * dh];
        float[] sin = new float[key.positions() * dh];
        for (int i = 0; i < half; i++) {
            double frequency = Math.pow(key.theta(), -2.0 * i / dh);
            int first = key.layout() == RopeLayout.ADJACENT ? 2 * i : i;
            int second = key.layout() == RopeLayout.ADJACENT ? 2 * i + 1 : i + half;
            for (int t = 0; t < key.positions(); t++) {
                double angle = t * frequency;
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[t * dh + first] = c;
                cos[t * dh + second] = c;
                sin[t * dh + first] = -s;
                sin[t * dh + second] = s;
            }
        }
        Shape shape = new Shape(key.positions(), dh);
        NDManager m = TorchOwned.constants();
        return new Tables(TorchOwned.constant(m.create(cos, shape)), TorchOwned.constant(m.create(sin, shape)));
    }

    /**
     * Rows {@code positions} of a table, owned by {@code owner} (never by the constants): a slice when they are
     * consecutive (the usual case), else a gather.
     */
    private static NDArray rows(NDArray table, int[] positions, NDManager owner) {
        boolean consecutive = true;
        for (int t = 1; t < positions.length; t++) {
            consecutive &= positions[t] == positions[t - 1] + 1;
        }
        if (consecutive) {
            NDArray slice = table.get(new NDIndex("{}:{}", positions[0], positions[0] + positions.length));
            slice.attach(owner);
            return slice;
        }
        long[] at = new long[positions.length];
        for (int t = 0; t < at.length; t++) {
            at[t] = positions[t];
        }
        try (NDArray index = owner.create(at)) {
            NDArray gathered = table.get(index);
            gathered.attach(owner);
            return gathered;
        }
    }
}
