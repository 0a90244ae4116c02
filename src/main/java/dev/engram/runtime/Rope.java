package dev.engram.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

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

    /** Rotates x of shape [T, heads, d_head], whose row t sits at position {@code positions[t]}. */
    public static NDArray apply(NDArray x, ModelConfig config, int[] positions) {
        int seqLen = (int) x.getShape().get(0);
        int heads = (int) x.getShape().get(1);
        int half = config.headDim() / 2;
        float[] cos = new float[seqLen * half];
        float[] sin = new float[seqLen * half];
        for (int t = 0; t < seqLen; t++) {
            for (int i = 0; i < half; i++) {
                double angle = positions[t] * Math.pow(config.ropeTheta(), -2.0 * i / config.headDim());
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
        Shape tableShape = new Shape(seqLen, 1, half);
        NDArray c = TorchOwned.owned(x.getManager().create(cos, tableShape));
        NDArray s = TorchOwned.owned(x.getManager().create(sin, tableShape));
        if (config.ropeLayout() == RopeLayout.ADJACENT) {
            NDArray pairs = x.reshape(seqLen, heads, half, 2);
            NDArray a = pairs.get(new NDIndex("..., 0"));
            NDArray b = pairs.get(new NDIndex("..., 1"));
            NDArray ra = a.mul(c).sub(b.mul(s));
            NDArray rb = a.mul(s).add(b.mul(c));
            return NDArrays.stack(new ai.djl.ndarray.NDList(ra, rb), 3).reshape(x.getShape());
        }
        NDArray a = x.get(new NDIndex("..., :{}", half));
        NDArray b = x.get(new NDIndex("..., {}:", half));
        return a.mul(c).sub(b.mul(s)).concat(a.mul(s).add(b.mul(c)), 2);
    }
}
