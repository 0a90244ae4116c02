package dev.engram.verification;

import dev.engram.inference.TokenProbability;
import java.util.List;

/** A fixed per-model prompt whose top-1 token must not change: the parent's and the edited model's top-1. */
public record SentinelCheck(String prompt, String parentTop1, String editedTop1, double kl,
        List<TokenProbability> topBefore, List<TokenProbability> topAfter) {

    public boolean kept() {
        return parentTop1.equals(editedTop1);
    }
}
