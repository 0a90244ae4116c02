package dev.engram.runtime;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Cooperative cancellation of long computations. A caller (the gRPC service, for one) binds "is this work still
 * wanted?" to the current thread; every long loop (each layer of a forward pass, each block of exhaustive scoring,
 * each training step, each verification prompt) calls {@link #checkpoint()}, which throws {@link Cancelled} once the
 * answer is no. Threads are never interrupted: an interrupt would also close file channels that a commit is writing.
 */
public final class Cancellation {
    private static final BooleanSupplier NEVER = () -> false;
    private static final ThreadLocal<BooleanSupplier> CANCELLED = ThreadLocal.withInitial(() -> NEVER);

    /** Thrown at a checkpoint of work that is no longer wanted. */
    public static final class Cancelled extends RuntimeException {
        public Cancelled() {
            super("the computation was cancelled", null, false, false);
        }
    }

    private Cancellation() {
    }

    /** Throws {@link Cancelled} if the work bound to this thread is no longer wanted. */
    public static void checkpoint() {
        if (CANCELLED.get().getAsBoolean()) {
            throw new Cancelled();
        }
    }

    /** Runs {@code body} on this thread with {@code cancelled} bound; the previous binding comes back after. */
    public static <T> T run(BooleanSupplier cancelled, Supplier<T> body) {
        BooleanSupplier previous = CANCELLED.get();
        CANCELLED.set(cancelled);
        try {
            return body.get();
        } finally {
            CANCELLED.set(previous);
        }
    }

    /** {@code task}, carrying this thread's binding to whichever thread runs it (for work handed to a pool). */
    public static <T> Supplier<T> carried(Supplier<T> task) {
        BooleanSupplier cancelled = CANCELLED.get();
        return () -> run(cancelled, task);
    }
}
