package dev.engram.editing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The subject-neuron units' subvalues: the least-squares solution of Σ_c m_c(x_i) d_c = δ + Σ_c m_c^old(x_i) d_c^old
 * over the subject's inputs, the plain prompt weighted as all prefixed contexts together. Checked by its normal
 * equations written out, and exactly where there are as many inputs as units.
 */
class SubjectSubvaluesTest {
    private static final int D = 4;

    private static double[] want(double[] delta, double[][] old, float[][] oldDown, int i) {
        double[] w = delta.clone();
        for (int e = 0; e < old.length; e++) {
            for (int j = 0; j < D; j++) {
                w[j] += old[e][i] * oldDown[e][j];
            }
        }
        return w;
    }

    @Test
    void theWeightedResidualIsOrthogonalToEveryUnitsCoefficients() {
        Random random = new Random(5);
        int n = 6;
        double[][] m = new double[2][n];
        double[][] old = new double[2][n];
        float[][] oldDown = new float[2][D];
        double[] delta = new double[D];
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < n; i++) {
                m[c][i] = 1 + 5 * random.nextDouble();
                old[c][i] = random.nextGaussian();
            }
            for (int j = 0; j < D; j++) {
                oldDown[c][j] = (float) random.nextGaussian();
            }
        }
        for (int j = 0; j < D; j++) {
            delta[j] = random.nextGaussian();
        }
        double[][] d = SubjectNeuronMethod.subvalues(m, old, oldDown, delta, n - 1);
        // normal equations: Σ_i w_i m_c(x_i) (Σ_e m_e(x_i) d_e − want_i) = 0 for each unit c and coordinate j
        for (int c = 0; c < 2; c++) {
            for (int j = 0; j < D; j++) {
                double gradient = 0;
                for (int i = 0; i < n; i++) {
                    double weight = i == 0 ? n - 1 : 1;
                    double fitted = m[0][i] * d[0][j] + m[1][i] * d[1][j];
                    gradient += weight * m[c][i] * (fitted - want(delta, old, oldDown, i)[j]);
                }
                assertEquals(0, gradient, 1e-6, "unit " + c + ", coordinate " + j);
            }
        }
    }

    @Test
    void asManyInputsAsUnitsAreMetExactly() {
        double[][] m = {{6, 1}, {0.5, 5}};
        double[][] old = {{0.2, -0.1}, {0, 0.3}};
        float[][] oldDown = {{1, 0, 0, 2}, {0, 1, -1, 0}};
        double[] delta = {1, -2, 0.5, 3};
        double[][] d = SubjectNeuronMethod.subvalues(m, old, oldDown, delta, 1);
        for (int i = 0; i < 2; i++) {
            double[] w = want(delta, old, oldDown, i);
            for (int j = 0; j < D; j++) {
                assertEquals(w[j], m[0][i] * d[0][j] + m[1][i] * d[1][j], 1e-7, // up to G's 1e-9 ridge
                         "input " + i + ", coordinate " + j);
            }
        }
    }
}
