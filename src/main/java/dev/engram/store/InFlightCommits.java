package dev.engram.store;

import java.util.HashMap;
import java.util.Map;

/**
 * How many commits of this process are between publishing a content address and finishing with it. Two identical
 * edits on one parent share an address and its published directory; a commit that fails may delete that directory
 * only while it holds the sole claim. Claims and the delete decision synchronise on this object.
 */
final class InFlightCommits {
    private final Map<String, Integer> claims = new HashMap<>();

    synchronized void claim(String id) {
        claims.merge(id, 1, Integer::sum);
    }

    synchronized void release(String id) {
        claims.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
    }

    /** Whether exactly one commit (the caller's) holds {@code id}. */
    synchronized boolean soleClaim(String id) {
        return claims.getOrDefault(id, 0) == 1;
    }
}
