package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;

/** The optimiser of learned edits: Adam (Kingma & Ba) with its default β1, β2 and ε, on the trainable rows' θ. */
final class Adam {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private Adam() {
    }

    /**
     * Adam on θ: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; θ ← θ − lr · m̂ / (sqrt(v̂) + ε); the gradient is then
     * zeroed. θ is updated in place with PyTorch's grad mode off: grad mode is per thread, and server worker threads start
     * with it on, where an in-place change of a leaf that requires gradients is refused.
     */
    static void step(List<TrainableRows> groups, double rate, int t) {
        float correction1 = (float) (1 - Math.pow(BETA1, t));
        float correction2 = (float) (1 - Math.pow(BETA2, t));
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (TrainableRows g : groups) {
                try (NDScope scope = new NDScope()) {
                    NDArray grad = g.theta.getGradient();
                    g.m.muli((float) BETA1).addi(grad.mul((float) (1 - BETA1)));
                    g.v.muli((float) BETA2).addi(grad.square().mul((float) (1 - BETA2)));
                    NDArray mHat = g.m.div(correction1);
                    NDArray vHat = g.v.div(correction2);
                    g.theta.subi(mHat.div(vHat.sqrt().add((float) EPSILON)).mul((float) rate));
                    JniUtils.zeroGrad((PtNDArray) g.theta);
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }
}
