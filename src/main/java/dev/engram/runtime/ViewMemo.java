package dev.engram.runtime;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;

/**
 * Values computed from a model view and kept for later calls on the same view: per base model (held weakly, so that a
 * closed model's entries go with it) the {@code capacity} most recently used keys, each qualified by the view's delta
 * hash, so that a checkpoint's view, rebuilt for every request, finds what an earlier request of it computed.
 */
public final class ViewMemo<V> {
    private final int capacity;
    private final Map<ModelWeights, Map<String, V>> byBase = Collections.synchronizedMap(new WeakHashMap<>());

    public ViewMemo(int capacity) {
        this.capacity = capacity;
    }

    private Map<String, V> of(Model view) {
        return byBase.computeIfAbsent(view.weights().base(),
                b -> Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                        return size() > capacity;
                    }
                }));
    }

    private static String qualified(Model view, String key) {
        return view.delta().hash() + "/" + key;
    }

    /** The value kept for {@code key} on {@code view}, or null. */
    public V get(Model view, String key) {
        return of(view).get(qualified(view, key));
    }

    public void put(Model view, String key, V value) {
        of(view).put(qualified(view, key), value);
    }

    /** Forgets every value kept, for every view. */
    public void clear() {
        byBase.clear();
    }

    /** The value kept for {@code key} on {@code view}, computed and kept first if there is none (one at a time). */
    public V computeIfAbsent(Model view, String key, Supplier<V> compute) {
        return of(view).computeIfAbsent(qualified(view, key), k -> compute.get());
    }
}
