package dev.engram.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelConfig;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The final residual at the last position, rebuilt from its neuron-level parts with plain loops:
 * h_T^L = h_T^0 + Σ_l [ Σ_{j,e,p} α_{T,p}^j·val_{p,e}^j·W_O[j·d_head+e, :] + b_O^l + Σ_k m_k^l·W_down[k, :] + b_down^l ].
 */
class ResidualDecompositionTest {
    @TempDir
    static Path temp;

    record Case(String name, Model model, String prompt, int[] tokens) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> models() throws Exception {
        Model stories = TestModels.stories260K();
        Model gpt2 = SyntheticModels.gpt2Checkpoint(temp.resolve("gpt2"), "gpt2-synthetic", 64, 3, 4, 7);
        Model llama = SyntheticModels.llamaCheckpoint(temp.resolve("llama"), "llama-gqa",
                SyntheticModels.llama(64, 3, 8, 2, 300, false), false, 11);
        Model qwen = SyntheticModels.llamaCheckpoint(temp.resolve("qwen"), "qwen2-bias",
                SyntheticModels.llama(48, 2, 6, 3, 200, true), true, 13);
        return Stream.of(
                new Case("stories260K", stories, "Once upon a time, there was a", null),
                new Case("SmolLM2-135M", TestModels.smolLM2(), "The capital of France is", null),
                new Case("gpt2-synthetic", gpt2, "The capital of France is", null),
                new Case("llama-gqa-synthetic", llama, null, new int[] {5, 17, 250, 3, 99, 42, 7, 7, 180}),
                new Case("qwen2-bias-synthetic", qwen, null, new int[] {1, 2, 3, 150, 199, 0}));
    }

    @ParameterizedTest
    @MethodSource("models")
    void finalResidualIsTheSumOfNeuronVectors(Case c) {
        Model model = c.model();
        ModelConfig cfg = model.config();
        int[] tokens = c.tokens() != null ? c.tokens() : model.tokenizer().encodePrompt(c.prompt());
        try (Trace trace = ForwardPass.of(model).trace(tokens)) {
            int t = trace.lastPosition();
            int d = cfg.dModel();
            int dh = cfg.headDim();
            double[] rebuilt = toDouble(trace.embedding().get(t).toFloatArray());
            for (int l = 0; l < cfg.nLayers(); l++) {
                LayerWeights w = model.weights().base().layer(l);
                float[] pattern = trace.pattern(l).toFloatArray(); // [H, T, T]
                float[] value = trace.value(l).toFloatArray(); // [H, T, dh]
                float[] wO = w.wO().toFloatArray(); // [H·dh, d]
                int seq = trace.length();
                for (int j = 0; j < cfg.nHeads(); j++) {
                    for (int e = 0; e < dh; e++) {
                        for (int p = 0; p <= t; p++) {
                            // attention neuron (l, j, e, p): coefficient α_{T,p}^j·val_{p,e}^j, subvalue W_O row j·dh+e
                            double coefficient = (double) pattern[(j * seq + t) * seq + p] * value[(j * seq + p) * dh + e];
                            for (int i = 0; i < d; i++) {
                                rebuilt[i] += coefficient * wO[(j * dh + e) * d + i];
                            }
                        }
                    }
                }
                addBias(rebuilt, w.bO() == null ? null : w.bO().toFloatArray());
                float[] m = trace.ffnCoefficients(l).get(t).toFloatArray();
                float[] wDown = w.wDown().toFloatArray(); // [d_ffn, d]
                for (int k = 0; k < cfg.dFfn(); k++) {
                    for (int i = 0; i < d; i++) {
                        rebuilt[i] += (double) m[k] * wDown[k * d + i];
                    }
                }
                addBias(rebuilt, w.bDown() == null ? null : w.bDown().toFloatArray());
            }
            double[] actual = toDouble(trace.residPost(cfg.nLayers() - 1).get(t).toFloatArray());
            double relative = distance(rebuilt, actual) / norm(actual);
            assertTrue(relative < 1e-4, c.name() + ": relative error " + relative);
            assertTrue(norm(actual) > 0.1, "degenerate residual");
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void attentionRowsAreCausalDistributions(Case c) {
        Model model = c.model();
        int[] tokens = c.tokens() != null ? c.tokens() : model.tokenizer().encodePrompt(c.prompt());
        try (Trace trace = ForwardPass.of(model).trace(tokens)) {
            int seq = trace.length();
            float[] pattern = trace.pattern(0).toFloatArray();
            for (int j = 0; j < model.config().nHeads(); j++) {
                for (int q = 0; q < seq; q++) {
                    double sum = 0;
                    for (int s = 0; s < seq; s++) {
                        float a = pattern[(j * seq + q) * seq + s];
                        if (s > q) {
                            assertEquals(0f, a, "head " + j + " query " + q + " reads the future");
                        }
                        sum += a;
                    }
                    assertEquals(1.0, sum, 1e-5);
                }
            }
        }
    }

    private static void addBias(double[] acc, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < acc.length; i++) {
                acc[i] += bias[i];
            }
        }
    }

    static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    static double norm(double[] a) {
        return distance(a, new double[a.length]);
    }
}
