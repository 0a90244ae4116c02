package dev.engram.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** Heavy-lane threads run at a higher nice value than the rest; the threads that make them keep theirs. */
class ThreadPriorityTest {
    @Test
    void threadsOfTheFactoryRunAtTheGivenNiceValueAndTheCallerKeepsItsOwn() throws Exception {
        Integer before = ThreadPriority.currentNice();
        assumeTrue(before != null, "no /proc/thread-self here (not Linux)");
        ExecutorService pool = Executors.newSingleThreadExecutor(ThreadPriority.factory("test-heavy", 7));
        try {
            assertEquals(7, pool.submit(ThreadPriority::currentNice).get());
            assertEquals("test-heavy-1", pool.submit(() -> Thread.currentThread().getName()).get());
        } finally {
            pool.shutdown();
        }
        assertEquals(before, ThreadPriority.currentNice());
    }
}
