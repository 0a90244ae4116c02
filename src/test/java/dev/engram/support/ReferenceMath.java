package dev.engram.support;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import java.util.Arrays;

/** The slow, obvious definitions that tests compare fast paths against. */
public final class ReferenceMath {
    private ReferenceMath() {
    }

    /** log softmax(z)_w in doubles, with the max subtracted. */
    public static double logSoftmax(double[] z, int w) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - max);
        }
        return z[w] - max - Math.log(sum);
    }

    /** ROME's P(target) = exp(mean_i log p(target_i | prompt, target_<i)), one whole forward pass per token. */
    public static double teacherForcedProbability(Model model, int[] prompt, int[] target) {
        double sum = 0;
        for (int i = 0; i < target.length; i++) {
            int[] context = Arrays.copyOf(prompt, prompt.length + i);
            System.arraycopy(target, 0, context, prompt.length, i);
            sum += new NextTokenDistribution(ForwardPass.of(model).lastLogits(context)).logProbability(target[i]);
        }
        return Math.exp(sum / target.length);
    }
}
