package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/** Per-holder counting of heavy calls: the limit, the release, holders apart, and the calls it does not count. */
class CallerQuotaTest {
    @Test
    void aHolderAtItsLimitIsRefusedUntilACallEnds() {
        CallerQuota quota = new CallerQuota(2);
        quota.enter("alice");
        quota.enter("alice");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> quota.enter("alice"));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals(2, quota.inFlight("alice"), "a refused call is not counted");
        quota.enter("bob");
        quota.leave("alice");
        quota.enter("alice");
        assertEquals(2, quota.inFlight("alice"));
        assertEquals(1, quota.inFlight("bob"));
        quota.leave("alice");
        quota.leave("alice");
        quota.leave("bob");
        assertEquals(0, quota.inFlight("alice"));
        assertEquals(0, quota.inFlight("bob"));
    }

    @Test
    void noHolderOrNoLimitCountsNothing() {
        CallerQuota off = new CallerQuota(0);
        for (int i = 0; i < 5; i++) {
            off.enter("alice");
        }
        assertEquals(0, off.inFlight("alice"));
        CallerQuota on = new CallerQuota(1);
        on.enter(null);
        on.enter(null);
        on.enter("alice");
        assertEquals(1, on.inFlight("alice"));
    }
}
