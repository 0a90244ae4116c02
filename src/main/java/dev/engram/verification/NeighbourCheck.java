package dev.engram.verification;

import dev.engram.inference.TokenProbability;
import java.util.List;

/**
 * An unrelated prompt that must keep its answer.
 *
 * @param parentTop1  whether the parent predicted the expected answer's first token at top-1
 * @param editedTop1  whether the edited model does
 * @param kl          KL(parent ‖ edited) of the next-token distributions, in nats
 * @param expectedOverNew       ROME's neighbourhood success: P(expected) > P(target_new) on the edited model
 * @param parentExpectedOverNew the same on the parent
 */
public record NeighbourCheck(int[] prompt, int[] expected, boolean parentTop1, boolean editedTop1, double kl,
        boolean expectedOverNew, boolean parentExpectedOverNew, List<TokenProbability> topBefore,
        List<TokenProbability> topAfter) {

    /** The neighbour lost an answer the parent gave. */
    public boolean flipped() {
        return parentTop1 && !editedTop1;
    }

    /** P(expected) > P(new) held on the parent and no longer does (CounterFact's neighbourhood failure). */
    public boolean lostToNew() {
        return parentExpectedOverNew && !expectedOverNew;
    }
}
