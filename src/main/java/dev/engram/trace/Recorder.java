package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Precision;
import java.util.ArrayList;
import java.util.List;

/**
 * What a run keeps of each block's hook points, by its {@link Keep} mode, and the {@link Trace} it makes of them. What
 * it keeps moves from the block's scope to the trace's manager; what it does not keep is freed with the block.
 */
final class Recorder {
    /** What a run keeps. */
    enum Keep { EVERYTHING, LEAN, ALL_LOGITS, LAST_LOGITS, ROWS }

    private final Keep keep;
    private final NDManager manager;
    /** A residual the caller owns (a run from a later block): never closed here. */
    private final NDArray startResidual;
    private final List<NDArray> pre = new ArrayList<>();
    private final List<NDArray> mid = new ArrayList<>();
    private final List<NDArray> post = new ArrayList<>();
    private final List<NDArray> patterns = new ArrayList<>();
    private final List<NDArray> values = new ArrayList<>();
    private final List<NDArray> coefficients = new ArrayList<>();
    private final List<NDArray> keys = new ArrayList<>();

    Recorder(Keep keep, NDManager manager, NDArray startResidual) {
        this.keep = keep;
        this.manager = manager;
        this.startResidual = startResidual;
    }

    /** Whether attention patterns are kept (then formed whole). */
    boolean keepsPatterns() {
        return keep == Keep.EVERYTHING;
    }

    /**
     * One block's hook points: h^{l−1} (its input), mid^l, the attention's pattern, values and keys, m^l and h^l.
     * h^l always survives the block, as the next block's input.
     */
    void block(NDArray residPre, NDArray residMid, AttentionStep.Attention attention, NDArray m, NDArray residPost) {
        switch (keep) {
            case EVERYTHING -> {
                pre.add(residPre);
                mid.add(keep(residMid, manager));
                patterns.add(keep(attention.pattern(), manager));
                values.add(keep(attention.value(), manager));
                coefficients.add(keep(m, manager));
                post.add(keep(residPost, manager));
            }
            case LEAN -> {
                pre.add(residPre);
                mid.add(keep(residMid, manager));
                values.add(keep(attention.value(), manager));
                keys.add(keep(attention.keys(), manager));
                keep(residPost, manager);
            }
            default -> {
                if (residPre != startResidual) {
                    residPre.close();
                }
                keep(residPost, manager);
            }
        }
    }

    /** The rows of h^L the readout runs on: the last row, the rows asked for, or every row. */
    NDArray readoutRows(NDArray last, int seqLen, long[] keptRows) {
        return switch (keep) {
            case LAST_LOGITS -> last.get(new NDIndex("{}:", seqLen - 1));
            case ROWS -> last.get(last.getManager().create(keptRows));
            default -> last;
        };
    }

    /**
     * The trace: from h^L, the normed rows N_f(h^L) and W_U; a lean trace keeps N_f(h^L) and recomputes logits
     * through {@code rows}.
     */
    Trace finish(ModelConfig config, int[] tokens, NDArray finalResidual, NDArray normed, NDArray unembedding,
            RecomputedRows rows) {
        if (keep == Keep.LEAN) {
            post.add(finalResidual); // h^L; h^l for l < L is residPre(l + 1)
            return Trace.lean(manager, config, tokens, pre, mid, post.get(0), values, keys, keep(normed, manager), rows);
        }
        NDArray logits = keep(Precision.times(normed, unembedding), manager);
        if (keep != Keep.EVERYTHING) {
            return new Trace(manager, config, tokens, null, null, null, null, null, null, null, logits);
        }
        return new Trace(manager, config, tokens, pre, mid, post, patterns, values, coefficients,
                keep(normed, manager), logits);
    }

    /** {@code array}, moved out of the current NDScope to {@code owner}. */
    static NDArray keep(NDArray array, NDManager owner) {
        NDScope.unregister(array);
        array.attach(owner);
        return array;
    }
}
