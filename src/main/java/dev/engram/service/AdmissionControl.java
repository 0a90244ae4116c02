package dev.engram.service;

import dev.engram.runtime.Cancellation;
import dev.engram.runtime.NativeMemory;
import dev.engram.runtime.ThreadPriority;
import dev.engram.service.security.BearerAuthInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Bounds the work in flight on each model. Each model has two lanes: {@link Lane#HEAVY} (attribution, edits,
 * comparisons, exports) and {@link Lane#QUICK} (predictions, generation, listings), each with a number of calls that
 * may run at once and a bounded queue of calls waiting for a slot. A call that finds the queue full gets
 * RESOURCE_EXHAUSTED at once; a queued call whose client gives up leaves the queue within 100 ms. Cheap calls never
 * wait behind long ones, since the lanes do not share slots, and heavy calls run on threads of a lower CPU priority,
 * so that on a few busy cores the kernel runs the quick ones first. One token holder may have at most
 * {@code heavy-per-caller} heavy calls running or waiting ({@link CallerQuota}).
 */
@ApplicationScoped
public class AdmissionControl {
    /** Which slots a call takes. */
    public enum Lane {
        QUICK, HEAVY
    }

    /** The heavy lane's threads, at a lower CPU priority than the quick lane's (the server's worker threads). */
    private static final ExecutorService HEAVY_THREADS = Executors.newCachedThreadPool(
            ThreadPriority.factory("engram-heavy", ThreadPriority.HEAVY_NICE));
    private final EngramConfig.Admission limits;
    private final ModelViews views;
    private final ConcurrentMap<String, Gate> gates = new ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final CallerQuota perCaller;

    public AdmissionControl(EngramConfig config, ModelViews views, MeterRegistry registry) {
        this.limits = config.admission();
        this.perCaller = new CallerQuota(limits.heavyPerCaller());
        this.views = views;
        this.registry = registry;
    }

    /**
     * Runs {@code body} in a slot of the lane of {@code model} (a request's model name: empty for the default;
     * NOT_FOUND when unknown), waiting in its queue if need be.
     */
    public <T> T run(String model, Lane lane, Supplier<T> body) {
        String name = views.modelName(model);
        Gate gate = gate(name, lane);
        String caller = lane == Lane.HEAVY ? BearerAuthInterceptor.CALLER.get() : null;
        perCaller.enter(caller);
        try {
            gate.enter(name, lane);
            try {
                return lane == Lane.HEAVY ? onHeavyThread(body) : body.get();
            } finally {
                gate.leave();
            }
        } finally {
            perCaller.leave(caller);
        }
    }

    /** Heavy calls of the token holder {@code caller} running or waiting now, over every model. */
    public int heavyInFlight(String caller) {
        return perCaller.inFlight(caller);
    }

    /**
     * Runs {@code body} on one of the heavy lane's threads, which yield the CPU to quick calls
     * ({@link ThreadPriority#HEAVY_NICE}), carrying the call's cancellation; the caller waits for it.
     */
    private static <T> T onHeavyThread(Supplier<T> body) {
        Supplier<T> carried = Cancellation.carried(body); // this call's binding, taken here on the caller's thread
        Future<T> result = HEAVY_THREADS.submit(() -> {
            try {
                return carried.get();
            } finally {
                NativeMemory.trim(); // what the call freed goes back to the system, not to the next call's peak
            }
        });
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    // the body stops at its next checkpoint once the call is cancelled; wait for it
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Calls of the lane running now. */
    public int running(String model, Lane lane) {
        return gate(views.modelName(model), lane).running();
    }

    /** Calls of the lane waiting for a slot now. */
    public int queued(String model, Lane lane) {
        return gate(views.modelName(model), lane).waiting.get();
    }

    /** The lane's gate, made on first use with its gauges engram_jobs_running and engram_jobs_queued{model, lane}. */
    private Gate gate(String model, Lane lane) {
        return gates.computeIfAbsent(model + "/" + lane, k -> {
            Gate gate = lane == Lane.HEAVY ? new Gate(limits.heavyInFlight(), limits.heavyQueue())
                    : new Gate(limits.quickInFlight(), limits.quickQueue());
            String laneName = lane.name().toLowerCase(java.util.Locale.ROOT);
            Gauge.builder("engram.jobs.running", gate, Gate::running).description("calls running, per model and lane")
                    .tags("model", model, "lane", laneName).register(registry);
            Gauge.builder("engram.jobs.queued", gate, g -> g.waiting.get())
                    .description("calls waiting for a slot, per model and lane")
                    .tags("model", model, "lane", laneName).register(registry);
            return gate;
        });
    }

    /** One lane of one model: its slots and its queue. */
    private static final class Gate {
        private final int slotCount;
        private final Semaphore slots;
        private final int queueLimit;
        private final AtomicInteger waiting = new AtomicInteger();

        Gate(int slotCount, int queueLimit) {
            this.slotCount = slotCount;
            this.slots = new Semaphore(slotCount, true);
            this.queueLimit = queueLimit;
        }

        void enter(String model, Lane lane) {
            if (slots.tryAcquire()) {
                return;
            }
            if (waiting.incrementAndGet() > queueLimit) {
                waiting.decrementAndGet();
                String setting = "engram.admission." + lane.name().toLowerCase(java.util.Locale.ROOT);
                throw Status.RESOURCE_EXHAUSTED.withDescription("model: '" + model + "' is busy: " + slotCount + " "
                        + lane.name().toLowerCase(java.util.Locale.ROOT) + " call(s) running and " + queueLimit
                        + " waiting (" + setting + "-in-flight, " + setting + "-queue); retry later")
                        .asRuntimeException();
            }
            try {
                while (!slots.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    Cancellation.checkpoint();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Cancellation.Cancelled();
            } finally {
                waiting.decrementAndGet();
            }
        }

        void leave() {
            slots.release();
        }

        int running() {
            return slotCount - slots.availablePermits();
        }
    }
}
