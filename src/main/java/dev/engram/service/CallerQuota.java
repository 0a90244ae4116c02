package dev.engram.service;

import io.grpc.Status;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * At most {@code limit} heavy calls per token holder running or waiting at once, over every model, so that one client
 * cannot fill a heavy lane's slots and queue by itself: one more gets RESOURCE_EXHAUSTED at once. Calls without a token
 * holder (a server without tokens) are not counted; a limit of 0 turns the quota off.
 */
final class CallerQuota {
    private final int limit;
    private final ConcurrentMap<String, Integer> inFlight = new ConcurrentHashMap<>();

    CallerQuota(int limit) {
        this.limit = limit;
    }

    /** Counts one more call of {@code caller} (null: none), or refuses it. */
    void enter(String caller) {
        if (caller == null || limit <= 0) {
            return;
        }
        int[] before = new int[1];
        inFlight.compute(caller, (k, n) -> {
            before[0] = n == null ? 0 : n;
            return before[0] < limit ? before[0] + 1 : n;
        });
        if (before[0] >= limit) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("authorization: '" + caller + "' already has " + limit
                    + " heavy call(s) running or waiting (engram.admission.heavy-per-caller); retry when one ends")
                    .asRuntimeException();
        }
    }

    void leave(String caller) {
        if (caller == null || limit <= 0) {
            return;
        }
        inFlight.computeIfPresent(caller, (k, n) -> n > 1 ? n - 1 : null);
    }

    /** Heavy calls of {@code caller} running or waiting now. */
    int inFlight(String caller) {
        return inFlight.getOrDefault(caller, 0);
    }
}
