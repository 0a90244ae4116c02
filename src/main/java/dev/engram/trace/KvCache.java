package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.engram.runtime.Model;

/**
 * Keys (after RoPE) and values of every layer for the positions run so far, so that generation runs each new token
 * once instead of re-running the whole prefix. Shapes per layer: [T, n_kv_heads, d_head]. Owns its arrays.
 */
public final class KvCache implements AutoCloseable {
    enum Part { KEY, VALUE }

    private final NDManager manager;
    private final NDArray[][] parts;
    private int length;

    public KvCache(Model model) {
        this.manager = model.weights().manager().newSubManager();
        this.parts = new NDArray[Part.values().length][model.config().nLayers()];
    }

    /** Positions held. */
    public int length() {
        return length;
    }

    /** Cached rows followed by {@code fresh} [n, n_kv, d_head]; the cache keeps the result, the caller gets it too. */
    NDArray append(int layer, NDArray fresh, Part part) {
        NDArray old = parts[part.ordinal()][layer];
        NDArray all = old == null ? fresh.duplicate() : old.concat(fresh, 0);
        NDScope.unregister(all);
        all.attach(manager);
        if (old != null) {
            old.close();
        }
        parts[part.ordinal()][layer] = all;
        return all;
    }

    void advance(int tokens) {
        length += tokens;
    }

    @Override
    public void close() {
        manager.close();
    }
}
