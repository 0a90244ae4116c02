package dev.engram.inference;

import dev.engram.runtime.Cancellation;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.PackedSequences;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Semaphore;

/**
 * Next-token logits for concurrent callers of one model view (one checkpoint: every caller's {@link Model} has the same
 * effective weights), computed in shared forward passes. A caller queues its
 * prompt and takes one of a few runner permits; whoever holds one runs every prompt then queued (up to a token budget)
 * as one packed pass ({@link PackedSequences}) and hands each caller its row. While a pass runs, the next one's
 * prompts gather, so under load a forward pass serves many calls at little more than the cost of one: on a few cores
 * the transformer's per-operation overhead, not its arithmetic, dominates short prompts. With two or more runners a
 * prompt that arrives during a pass starts its own at once instead of waiting for that pass to end, which roughly
 * halves the wait of a call under load.
 *
 * <p>The runner computes its batch with cancellation off, so a caller that gives up never costs the others their
 * answers; a caller still waiting checks its own cancellation every 50 ms and leaves the queue.
 */
public final class NextTokenBatcher {
    private record Pending(Model model, int[] tokens, CompletableFuture<float[]> logits) {
    }

    private final int tokenBudget;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final Semaphore runners;
    private final java.util.concurrent.atomic.AtomicLong passes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger peakRunning = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * @param tokenBudget the most prompt tokens packed into one pass (attention costs grow with its square); a longer
     *                    prompt runs alone
     */
    public NextTokenBatcher(int tokenBudget) {
        this(tokenBudget, 1);
    }

    /**
     * @param tokenBudget as above
     * @param runners     how many packed passes may run at once
     */
    public NextTokenBatcher(int tokenBudget, int runners) {
        if (runners < 1) {
            throw new IllegalArgumentException("runners must be at least 1, not " + runners);
        }
        this.tokenBudget = tokenBudget;
        this.runners = new Semaphore(runners, true);
    }

    /**
     * The logits after the last token of {@code tokens} on {@code model}, as {@link ForwardPass#lastLogits(int[])}
     * gives them.
     */
    public float[] lastLogits(Model model, int[] tokens) {
        Pending mine = new Pending(model, tokens.clone(), new CompletableFuture<>());
        synchronized (queue) {
            queue.add(mine);
        }
        try {
            while (!mine.logits().isDone()) {
                if (!runners.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                    Cancellation.checkpoint();
                    continue;
                }
                try {
                    if (!mine.logits().isDone()) {
                        runBatch(drain());
                    }
                } finally {
                    runners.release();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            leave(mine);
            throw new Cancellation.Cancelled();
        } catch (Cancellation.Cancelled e) {
            leave(mine);
            throw e;
        }
        try {
            return mine.logits().join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /** Forward passes run so far. */
    public long passes() {
        return passes.get();
    }

    /** The most passes that have run at the same time so far. */
    public int peakConcurrentPasses() {
        return peakRunning.get();
    }

    /** The queued prompts, oldest first, up to the token budget (at least one). */
    private List<Pending> drain() {
        List<Pending> batch = new ArrayList<>();
        int tokens = 0;
        synchronized (queue) {
            while (!queue.isEmpty()) {
                int next = queue.peek().tokens().length;
                if (!batch.isEmpty() && tokens + next > tokenBudget) {
                    break;
                }
                batch.add(queue.poll());
                tokens += next;
            }
        }
        return batch;
    }

    private void runBatch(List<Pending> batch) {
        if (batch.isEmpty()) {
            return;
        }
        passes.incrementAndGet();
        peakRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
        try {
            float[][] rows = Cancellation.run(() -> false, () -> ForwardPass.of(batch.get(0).model())
                    .lastLogits(PackedSequences.of(batch.stream().map(Pending::tokens).toList())));
            for (int k = 0; k < rows.length; k++) {
                batch.get(k).logits().complete(rows[k]);
            }
        } catch (RuntimeException e) {
            batch.forEach(p -> p.logits().completeExceptionally(e));
        } finally {
            running.decrementAndGet();
        }
    }

    private void leave(Pending mine) {
        synchronized (queue) {
            queue.remove(mine);
        }
    }
}
