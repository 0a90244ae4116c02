package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.engram.inference.NextTokenDistribution;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The verifier's measures against values worked out by hand. */
class VerifierMathTest {

    /** "a b a b a": bigrams ab, ba, ab, ba → H2 = 1 bit; trigrams aba, bab, aba → H3 = −(2/3 log2 2/3 + 1/3 log2 1/3). */
    @Test
    void ngramEntropyIsRomesWeightedBigramAndTrigramEntropy() {
        double h3 = -(2.0 / 3 * Math.log(2.0 / 3) + 1.0 / 3 * Math.log(1.0 / 3)) / Math.log(2);
        assertEquals((2.0 / 3 * 1.0 + 4.0 / 3 * h3) / 2, NgramEntropy.of("a b a b a"), 1e-12);
        assertEquals(0, NgramEntropy.of("Rome Rome Rome Rome Rome"), 1e-12);
        assertEquals(List.of("Paris", ",", "the", "city", "'s", "."), NgramEntropy.words("Paris, the city 's."));
        // four distinct words: H2 = log2 3, H3 = 1
        assertEquals((2.0 / 3 * Math.log(3) / Math.log(2) + 4.0 / 3) / 2, NgramEntropy.of("w x y z"), 1e-12);
    }

    @Test
    void klAndRankFollowTheirDefinitions() {
        float[] p = {0f, 1f, 2f};
        float[] q = {2f, 1f, 0f};
        double zp = Math.log(1 + Math.E + Math.exp(2));
        double expected = 0;
        for (int v = 0; v < 3; v++) {
            double lp = p[v] - zp;
            double lq = q[v] - zp;
            expected += Math.exp(lp) * (lp - lq);
        }
        assertEquals(expected, Verifier.kl(new NextTokenDistribution(p), new NextTokenDistribution(q)), 1e-9);
        assertEquals(0, Verifier.kl(new NextTokenDistribution(p), new NextTokenDistribution(p)), 1e-12);
        assertEquals(1, new NextTokenDistribution(p).rank(2));
        assertEquals(3, new NextTokenDistribution(p).rank(0));
    }
}
