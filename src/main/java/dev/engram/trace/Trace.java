package dev.engram.trace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.engram.runtime.ModelConfig;
import java.util.List;

/**
 * Everything one forward pass computed, at every position, named after TransformerLens hook points. All arrays are
 * owned by the trace and released by {@link #close()}. Shapes: T = number of tokens, d = d_model.
 *
 * <p>A lean trace ({@link ForwardPass#leanTrace}) keeps the residuals, keys, values and final normed residual only, and
 * recomputes a pattern row, a position's FFN coefficients or its logits when asked: read those through
 * {@link #patternRow}, {@link #ffnCoefficientsAt} and {@link #logitsAt}, which work on both kinds.
 */
public final class Trace implements AutoCloseable {
    private final NDManager manager;
    private final ModelConfig config;
    private final int[] tokens;
    private final List<NDArray> residPre;
    private final List<NDArray> residMid;
    private final List<NDArray> residPost;
    private final List<NDArray> pattern;
    private final List<NDArray> value;
    private final List<NDArray> ffnCoefficients;
    private final NDArray finalNormed;
    private final NDArray logits;
    /** Lean traces only: keys after RoPE per layer [T, n_kv, dh], h^L [T, d], and how to recompute rows. */
    private final List<NDArray> keys;
    private final NDArray finalResidual;
    private final RecomputedRows rows;

    Trace(NDManager manager, ModelConfig config, int[] tokens, List<NDArray> residPre, List<NDArray> residMid,
            List<NDArray> residPost, List<NDArray> pattern, List<NDArray> value, List<NDArray> ffnCoefficients,
            NDArray finalNormed, NDArray logits) {
        this(manager, config, tokens, residPre, residMid, residPost, pattern, value, ffnCoefficients, finalNormed, logits,
                null, null, null);
    }

    private Trace(NDManager manager, ModelConfig config, int[] tokens, List<NDArray> residPre, List<NDArray> residMid,
            List<NDArray> residPost, List<NDArray> pattern, List<NDArray> value, List<NDArray> ffnCoefficients,
            NDArray finalNormed, NDArray logits, List<NDArray> keys, NDArray finalResidual, RecomputedRows rows) {
        this.keys = keys;
        this.finalResidual = finalResidual;
        this.rows = rows;
        this.manager = manager;
        this.config = config;
        this.tokens = tokens;
        this.residPre = residPre;
        this.residMid = residMid;
        this.residPost = residPost;
        this.pattern = pattern;
        this.value = value;
        this.ffnCoefficients = ffnCoefficients;
        this.finalNormed = finalNormed;
        this.logits = logits;
    }

    /** A lean trace: see the class comment. */
    static Trace lean(NDManager manager, ModelConfig config, int[] tokens, List<NDArray> residPre,
            List<NDArray> residMid, NDArray finalResidual, List<NDArray> value, List<NDArray> keys, NDArray finalNormed,
            RecomputedRows rows) {
        return new Trace(manager, config, tokens, residPre, residMid, null, null, value, null, finalNormed, null, keys,
                finalResidual, rows);
    }

    /** Whether pattern rows, FFN coefficients and logits are recomputed on demand rather than kept. */
    public boolean isLean() {
        return rows != null;
    }

    public ModelConfig config() {
        return config;
    }

    public int[] tokens() {
        return tokens.clone();
    }

    public int length() {
        return tokens.length;
    }

    public int lastPosition() {
        return tokens.length - 1;
    }

    /** h^0: token (+ position) embedding, [T, d] ({@code hook_embed + hook_pos_embed}). */
    public NDArray embedding() {
        return residPre(0);
    }

    /** h^{l−1}: the residual entering block l, [T, d] ({@code blocks.l.hook_resid_pre}). */
    public NDArray residPre(int layer) {
        return recorded(residPre).get(layer);
    }

    /** mid^l = h^{l−1} + A^l, [T, d] ({@code blocks.l.hook_resid_mid}). */
    public NDArray residMid(int layer) {
        return recorded(residMid).get(layer);
    }

    /** h^l = mid^l + F^l, [T, d] ({@code blocks.l.hook_resid_post}). */
    public NDArray residPost(int layer) {
        if (isLean()) {
            return layer == config.nLayers() - 1 ? finalResidual : residPre(layer + 1);
        }
        return recorded(residPost).get(layer);
    }

    /** α^l: attention weights, [n_heads, T_query, T_source] ({@code blocks.l.attn.hook_pattern}). */
    public NDArray pattern(int layer) {
        return recorded(pattern).get(layer);
    }

    /**
     * val^l: value vectors per query head (key/value heads repeated under GQA, bias included),
     * [n_heads, T_source, d_head] ({@code blocks.l.attn.hook_v}).
     */
    public NDArray value(int layer) {
        return recorded(value).get(layer);
    }

    /** m^l: FFN neuron coefficients, [T, d_ffn] ({@code blocks.l.mlp.hook_post}). */
    public NDArray ffnCoefficients(int layer) {
        return recorded(ffnCoefficients).get(layer);
    }

    /** α^l at query position t over sources 0..t: [n_heads, t + 1]. Recomputed in a lean trace. */
    public NDArray patternRow(int layer, int t) {
        return isLean() ? patternRows(layer, new int[] {t}).reshape(config.nHeads(), t + 1)
                : pattern(layer).get(":, " + t + ", :" + (t + 1));
    }

    /**
     * α^l at query positions ts over sources 0..max(ts), each row 0 after its own position: [n_heads, P, max + 1].
     * Recomputed in a lean trace, all rows in one pass.
     */
    public NDArray patternRows(int layer, int[] ts) {
        int sources = java.util.Arrays.stream(ts).max().orElseThrow() + 1;
        if (isLean()) {
            return rows.patternRows(layer, rowsAt(residPre(layer), ts), ts, keys.get(layer).get(":" + sources));
        }
        NDArray full = pattern(layer);
        NDList picked = new NDList();
        for (int t : ts) {
            picked.add(full.get(":, " + t + ", :" + sources));
        }
        return NDArrays.stack(picked, 1);
    }

    /** m^l at position t: [d_ffn]. Recomputed in a lean trace. */
    public NDArray ffnCoefficientsAt(int layer, int t) {
        return isLean() ? ffnCoefficientsAt(layer, new int[] {t}).reshape(config.dFfn()) : ffnCoefficients(layer).get(t);
    }

    /** m^l at positions ts: [P, d_ffn]. Recomputed in a lean trace, all rows in one pass. */
    public NDArray ffnCoefficientsAt(int layer, int[] ts) {
        return isLean() ? rows.ffnCoefficients(layer, rowsAt(residMid(layer), ts)) : rowsAt(ffnCoefficients(layer), ts);
    }

    /** Rows ts of a [T, ...] array: [P, ...]. */
    private static NDArray rowsAt(NDArray a, int[] ts) {
        NDList picked = new NDList();
        for (int t : ts) {
            picked.add(a.get(t));
        }
        return NDArrays.stack(picked);
    }

    /** Logits at position t: [V]. Recomputed in a lean trace. */
    public NDArray logitsAt(int t) {
        return isLean() ? rows.logits(finalNormed().get(t)) : logits.get(t);
    }

    /** N_f(h^L): the final normed residual, [T, d] ({@code ln_final.hook_normalized}). */
    public NDArray finalNormed() {
        if (finalNormed == null) {
            throw notRecorded();
        }
        return finalNormed;
    }

    /** Logits, [T, V] for a full trace, [1, V] (last position only) for a logits-only run. */
    public NDArray logits() {
        return recorded(logits);
    }

    /** Logits at the last position, as floats. */
    public float[] lastLogits() {
        long rows = logits.getShape().get(0);
        return logits.get(rows - 1).toFloatArray();
    }

    private <X> X recorded(X part) {
        if (part == null) {
            throw notRecorded();
        }
        return part;
    }

    private IllegalStateException notRecorded() {
        return new IllegalStateException(isLean()
                ? "a lean trace keeps no patterns, coefficients or logits: read rows (patternRow, ffnCoefficientsAt, logitsAt)"
                : "this trace was run without recording (logits only)");
    }

    /**
     * Rows [start, end) of a packed trace ({@link PackedSequences}) as a trace of their own: what tracing that
     * sequence alone records (its rows of every residual, coefficient and logit, its block of every attention pattern,
     * whose other entries the packing mask made zero). The arrays are views owned by a sub-manager of this trace's.
     */
    Trace slice(int start, int end) {
        NDManager part = manager.newSubManager();
        String rows = start + ":" + end;
        if (isLean()) {
            return lean(part, config, java.util.Arrays.copyOfRange(tokens, start, end), sliced(residPre, rows, part),
                    sliced(residMid, rows, part), view(finalResidual, rows, part), sliced(value, ":, " + rows + ", :", part),
                    sliced(keys, rows, part), view(finalNormed, rows, part), this.rows);
        }
        return new Trace(part, config, java.util.Arrays.copyOfRange(tokens, start, end),
                sliced(residPre, rows, part), sliced(residMid, rows, part), sliced(residPost, rows, part),
                sliced(pattern, ":, " + rows + ", " + rows, part), sliced(value, ":, " + rows + ", :", part),
                sliced(ffnCoefficients, rows, part), view(finalNormed, rows, part), view(logits, rows, part));
    }

    private static List<NDArray> sliced(List<NDArray> arrays, String index, NDManager into) {
        return arrays.stream().map(a -> view(a, index, into)).toList();
    }

    private static NDArray view(NDArray a, String index, NDManager into) {
        NDArray out = a.get(index);
        out.attach(into);
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
