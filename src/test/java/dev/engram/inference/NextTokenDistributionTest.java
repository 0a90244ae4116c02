package dev.engram.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Top-k against a full sort: largest logit first, ties broken by the smaller token id. */
class NextTokenDistributionTest {
    @Test
    void topKEqualsTheHeadOfAFullSortWithTies() {
        Random random = new Random(7);
        for (int trial = 0; trial < 50; trial++) {
            int vocab = 1 + random.nextInt(300);
            float[] logits = new float[vocab];
            for (int v = 0; v < vocab; v++) {
                logits[v] = random.nextInt(12) - 6; // few distinct values: many ties
            }
            int k = 1 + random.nextInt(Math.min(vocab, 20));
            List<Integer> expected = IntStream.range(0, vocab).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(v -> -logits[v]).thenComparing(v -> v))
                    .limit(k).toList();
            List<Integer> actual = new NextTokenDistribution(logits).topK(k, id -> "").stream()
                    .map(TokenProbability::id).toList();
            assertEquals(expected, actual, "vocab " + vocab + ", k " + k);
        }
    }
}
