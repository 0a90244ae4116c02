package dev.engram.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.engram.support.TestModels;
import org.junit.jupiter.api.Test;

/** The activations against their definitions in doubles, and SiLU's gradient where the textbook form breaks. */
class ActivationsTest {
    private static final float[] XS = {-120f, -90f, -20f, -3f, -0.5f, 0f, 0.7f, 4f, 30f, 100f};

    @Test
    void siluIsXTimesSigmoidEverywhere() {
        try (NDManager m = TestModels.root().newSubManager()) {
            float[] y = Activations.silu(m.create(XS)).toFloatArray();
            for (int i = 0; i < XS.length; i++) {
                double x = XS[i];
                double expected = x / (1 + Math.exp(-x)); // in double: no overflow in this range
                assertEquals(expected, y[i], 1e-6 * Math.max(1, Math.abs(expected)), "silu(" + x + ")");
            }
        }
    }

    /** d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))): finite and right even at x = −120, where e^(−x) overflows float32. */
    @Test
    void siluGradientIsFiniteAndRight() {
        try (NDManager m = TestModels.root().newSubManager()) {
            NDArray x = m.create(XS);
            x.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(Activations.silu(x).sum());
            }
            float[] grad = x.getGradient().toFloatArray();
            for (int i = 0; i < XS.length; i++) {
                double s = 1 / (1 + Math.exp(-XS[i]));
                double expected = s * (1 + XS[i] * (1 - s));
                assertTrue(Float.isFinite(grad[i]), "gradient at " + XS[i] + " is " + grad[i]);
                assertEquals(expected, grad[i], 1e-5, "gradient at " + XS[i]);
            }
        }
    }

    @Test
    void geluTanhIsGpt2sGeluNew() {
        try (NDManager m = TestModels.root().newSubManager()) {
            float[] y = Activations.geluTanh(m.create(XS)).toFloatArray();
            for (int i = 0; i < XS.length; i++) {
                double x = XS[i];
                double expected = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                assertEquals(expected, y[i], 1e-5 * Math.max(1, Math.abs(expected)), "gelu(" + x + ")");
            }
        }
    }
}
