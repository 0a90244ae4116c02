package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.engram.runtime.Model;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Scored pairs, run as one packed pass with shared prompts, against each pair's tokens run alone (real stories260K). */
class ScoredPromptsTest {

    @Test
    void everyRowOfEveryPairIsTheLogitsOfThatPairRunAlone() {
        Model model = TestModels.sharedStories260K();
        int[] prompt = {1, 403, 407, 261};
        int[] longer = {1, 403, 407, 261, 378, 432}; // shares the prompt's tokens
        int[] other = {1, 291, 300};
        int[][][] pairs = {
            {prompt, {378}}, {prompt, {432}}, {prompt, {378, 432, 291}}, {longer, {291}}, {other, {}}, {other, {5, 6}},
            // the same tokens as the next pair, read from a later row
            {{1, 403, 407, 261, 378}, {432}}, {prompt, {378, 432}},
        };
        ScoredPrompts batch = new ScoredPrompts();
        int[] index = new int[pairs.length];
        for (int k = 0; k < pairs.length; k++) {
            index[k] = batch.add(pairs[k][0], pairs[k][1]);
        }
        // a one-token continuation runs only the prompt: two such pairs on one prompt are one pair, read from one row
        assertEquals(index[0], index[1]);
        assertNotEquals(index[0], index[2]);
        assertEquals(index[4], batch.add(other, new int[] {9}));
        ScoredPrompts.Scores scores = batch.run(model);
        for (int k = 0; k < pairs.length; k++) {
            int[] p = pairs[k][0];
            int[] continuation = pairs[k][1];
            float[][] rows = scores.rows(index[k]);
            assertEquals(Math.max(1, continuation.length), rows.length, "pair " + k);
            for (int i = 0; i < rows.length; i++) {
                int[] alone = Arrays.copyOf(p, p.length + i);
                System.arraycopy(continuation, 0, alone, p.length, i);
                assertArrayEquals(ForwardPass.of(model).lastLogits(alone), rows[i], 1e-4f, "pair " + k + " row " + i);
            }
        }
        // ROME's mean log-probability of a continuation, from those rows
        double expected = 0;
        int[] target = pairs[2][1];
        for (int i = 0; i < target.length; i++) {
            int[] alone = Arrays.copyOf(prompt, prompt.length + i);
            System.arraycopy(target, 0, alone, prompt.length, i);
            expected += new dev.engram.inference.NextTokenDistribution(ForwardPass.of(model).lastLogits(alone))
                    .logProbability(target[i]);
        }
        assertEquals(expected / target.length, scores.meanLogProb(index[2], target), 1e-4);

        // rows the caller already has are taken as given; the other pairs run as before
        float[][] given = {new float[model.config().vocabSize()]};
        ScoredPrompts.Scores partly = batch.run(model, k -> k == index[4] ? given : null);
        assertSame(given, partly.rows(index[4]));
        for (int k : new int[] {index[0], index[2], index[3], index[5]}) {
            for (int i = 0; i < scores.rows(k).length; i++) {
                assertArrayEquals(scores.rows(k)[i], partly.rows(k)[i], 1e-5f, "pair " + k + " row " + i);
            }
        }
    }
}
