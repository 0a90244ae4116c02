package dev.engram.verification;

import dev.engram.inference.TokenProbability;
import java.util.List;

/**
 * One prompt that must now give target_new (the edit prompt or a paraphrase). Probabilities are ROME's: exp of the
 * mean log-probability of the target's tokens, teacher-forced. Ranks are those of the targets' first tokens (1 = top).
 */
public record PromptCheck(int[] prompt, double newProbBefore, double trueProbBefore, double newProb, double trueProb,
        int newRank, int trueRank, List<TokenProbability> topBefore, List<TokenProbability> topAfter) {

    /** P(new) > P(true) on the edited model. */
    public boolean success() {
        return newProb > trueProb;
    }
}
