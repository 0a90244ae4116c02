package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The subject detector's subkey against its formula computed literally (Gauss-Jordan inverses, sums written out), and
 * its behaviour: on inputs that, like normed residuals, share a large common component, the unit fires for the
 * subject's inputs and stays near zero for every other input.
 */
class SubjectDetectorTest {
    private static final int D = 7;
    private static final double RIDGE = 0.1;
    private static final double SHARPNESS = 6;

    private static List<double[]> cloud(Random random, double[] centre, int n, double spread) {
        List<double[]> out = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            double[] x = new double[D];
            for (int i = 0; i < D; i++) {
                x[i] = centre[i] + spread * random.nextGaussian();
            }
            out.add(x);
        }
        return out;
    }

    private static double[] centre(double common, double own, int axis) {
        double[] c = new double[D];
        c[0] = common;
        if (axis > 0) {
            c[axis] = own;
        }
        return c;
    }

    @Test
    void theSubkeyIsTheDiscriminantShiftedByTheThresholdAlongTheConstantDirection() {
        assertSubkeyIsTheFormula(new Random(3), 6, 40);
    }

    @Test
    void fewerInputsThanDimensionsGiveTheSameFormulaThroughTheDualForm() {
        // 2 + 4 inputs in 7 dimensions: both ridge systems are solved as n × n ones (Woodbury), checked against d × d
        assertSubkeyIsTheFormula(new Random(5), 2, 4);
    }

    private static void assertSubkeyIsTheFormula(Random random, int nPositives, int nNegatives) {
        List<double[]> positives = cloud(random, centre(4, 3, 2), nPositives, 0.2);
        List<double[]> negatives = cloud(random, centre(4, 0, 0), nNegatives, 0.3);
        SubjectDetector.Subkey key = SubjectDetector.design(positives, negatives, RIDGE, SHARPNESS);
        // w = (Σ_N + ε·tr(Σ_N)/d·I)⁻¹ (μ_P − μ_N), Σ_N the population covariance of N
        double[] muP = mean(positives);
        double[] muN = mean(negatives);
        double[][] sigma = new double[D][D];
        for (double[] x : negatives) {
            for (int i = 0; i < D; i++) {
                for (int k = 0; k < D; k++) {
                    sigma[i][k] += (x[i] - muN[i]) * (x[k] - muN[k]) / negatives.size();
                }
            }
        }
        double[] w = times(KeyValueAlgebraTest.inverse(ridged(sigma, RIDGE)), minus(muP, muN));
        // c = (XᵀX + 10⁻³·tr/d·I)⁻¹ Xᵀ1 over P and N
        List<double[]> all = new ArrayList<>(positives);
        all.addAll(negatives);
        double[][] gram = new double[D][D];
        double[] ones = new double[D];
        for (double[] x : all) {
            for (int i = 0; i < D; i++) {
                ones[i] += x[i];
                for (int k = 0; k < D; k++) {
                    gram[i][k] += x[i] * x[k];
                }
            }
        }
        double[] c = times(KeyValueAlgebraTest.inverse(ridged(gram, 1e-3)), ones);
        // s(x) = w·x / c·x; τ between the lowest positive and the highest negative score; a·(s̄_P − τ) = sharpness
        double minP = Double.POSITIVE_INFINITY;
        double maxN = Double.NEGATIVE_INFINITY;
        for (double[] x : positives) {
            minP = Math.min(minP, dot(w, x) / dot(c, x));
        }
        for (double[] x : negatives) {
            maxN = Math.max(maxN, dot(w, x) / dot(c, x));
        }
        assertTrue(minP > maxN, "the test's clouds are separable");
        double tau = (minP + maxN) / 2;
        double a = SHARPNESS / (dot(w, muP) / dot(c, muP) - tau);
        for (int i = 0; i < D; i++) {
            assertEquals(a * (w[i] - tau * c[i]), key.gate()[i], 1e-9 * (1 + Math.abs(a * w[i])), "g[" + i + "]");
            assertEquals(c[i], key.up()[i], 1e-9, "u[" + i + "]");
        }
    }

    @Test
    void theUnitFiresForTheSubjectAndStaysShutForTheOthers() {
        Random random = new Random(11);
        SubjectDetector.Subkey key = SubjectDetector.design(cloud(random, centre(4, 3, 3), 6, 0.2),
                cloud(random, centre(4, 0, 0), 60, 0.3), RIDGE, SHARPNESS);
        // m(x) = silu(g·x)(u·x): about silu(6)·1 ≈ 6 at the subject's mean
        assertEquals(SHARPNESS / (1 + Math.exp(-SHARPNESS)), key.subjectCoefficient(), 0.2);
        for (double[] x : cloud(new Random(12), centre(4, 3, 3), 20, 0.2)) {
            assertTrue(SubjectDetector.coefficient(key.gate(), key.up(), x) > 1.0, "a fresh input of the subject");
        }
        for (double[] x : cloud(new Random(13), centre(4, 0, 0), 200, 0.3)) {
            assertTrue(Math.abs(SubjectDetector.coefficient(key.gate(), key.up(), x)) < 0.3,
                    "a fresh other input: " + SubjectDetector.coefficient(key.gate(), key.up(), x));
        }
    }

    private static double[][] ridged(double[][] m, double relative) {
        double trace = 0;
        for (int i = 0; i < D; i++) {
            trace += m[i][i];
        }
        double[][] out = new double[D][];
        for (int i = 0; i < D; i++) {
            out[i] = m[i].clone();
            out[i][i] += relative * trace / D;
        }
        return out;
    }

    private static double[] mean(List<double[]> xs) {
        double[] out = new double[D];
        for (double[] x : xs) {
            for (int i = 0; i < D; i++) {
                out[i] += x[i] / xs.size();
            }
        }
        return out;
    }

    private static double[] minus(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }

    private static double[] times(double[][] m, double[] x) {
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = dot(m[i], x);
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        return java.util.stream.IntStream.range(0, a.length).mapToDouble(i -> a[i] * b[i]).sum();
    }
}
