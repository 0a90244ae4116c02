package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.runtime.EffectiveWeights;
import dev.engram.runtime.Param;
import dev.engram.runtime.Model;
import dev.engram.trace.Trace;

/**
 * The neurons of one layer and kind that write into position {@code position}, as coefficients and subvalues.
 * Neuron i's vector is v_i = coefficient[i] · subvalues[row(i)].
 * <ul>
 * <li>FFN (l, k): coefficient m_k, subvalue row k of W_down.</li>
 * <li>Attention (l, j, e, p), flat index i = (j·d_head + e)·T' + p with T' = position + 1 sources: coefficient
 * α_{t,p}^j · val_{p,e}^j, subvalue row j·d_head + e of W_O.</li>
 * </ul>
 */
final class NeuronTable {
    final NeuronKind kind;
    final int layer;
    final int position;
    /** The base residual of these neurons' value scores: h^{l−1} for attention, mid^l for FFN (row in the base stack). */
    final int baseIndex;
    final float[] coefficients;
    /** The model's effective weights, whose {@link #subvalueMatrix} rows are the subvalues (W_down or W_O). */
    final EffectiveWeights weights;
    final Param subvalueMatrix;
    private final int sources;
    private final int headDim;

    private NeuronTable(NeuronKind kind, int layer, int position, int baseIndex, float[] coefficients,
            EffectiveWeights weights, int sources, int headDim) {
        this.kind = kind;
        this.layer = layer;
        this.position = position;
        this.baseIndex = baseIndex;
        this.coefficients = coefficients;
        this.weights = weights;
        this.subvalueMatrix = kind == NeuronKind.FFN ? Param.FFN_DOWN : Param.ATTN_O;
        this.sources = sources;
        this.headDim = headDim;
    }

    /** Base stack rows: 2l = h^{l−1} (before attention of layer l), 2l + 1 = mid^l, 2L = h^L. */
    static int preBase(int layer) {
        return 2 * layer;
    }

    static int midBase(int layer) {
        return 2 * layer + 1;
    }

    static NeuronTable ffn(Model model, Trace trace, int layer, int position) {
        try (NDScope scope = new NDScope()) { // a lean trace's recomputation makes arrays too: all freed here
            return ffn(model, layer, position, trace.ffnCoefficientsAt(layer, position).toFloatArray());
        }
    }

    /** The FFN neurons of one layer at {@code position} whose coefficients m^l_position are already at hand. */
    static NeuronTable ffn(Model model, int layer, int position, float[] coefficients) {
        return new NeuronTable(NeuronKind.FFN, layer, position, midBase(layer), coefficients,
                model.weights(), 1, model.config().headDim());
    }

    /** c[j, e, p] = α_{t,p}^j · val_{p,e}^j for p ≤ t, flattened as (j·d_head + e)·T' + p. */
    static NeuronTable attention(Model model, Trace trace, int layer, int position) {
        int sources = position + 1;
        try (NDScope scope = new NDScope()) { // a lean trace's recomputation makes arrays too: all freed here
            NDArray pattern = trace.patternRow(layer, position); // [H, T']
            NDArray value = trace.value(layer).get(new NDIndex(":, :{}, :", sources)); // [H, T', dh]
            return attention(model, layer, position, value.transpose(0, 2, 1).mul(pattern.expandDims(1)));
        }
    }

    /** The attention neurons of one layer at query {@code position} from their coefficients c [H, d_head, T']. */
    static NeuronTable attention(Model model, int layer, int position, NDArray coefficients) {
        return new NeuronTable(NeuronKind.ATTENTION, layer, position, preBase(layer), coefficients.toFloatArray(),
                model.weights(), position + 1, model.config().headDim());
    }

    int size() {
        return coefficients.length;
    }

    /** The row of the subvalue matrix that neuron i writes. */
    int row(int i) {
        return kind == NeuronKind.FFN ? i : i / sources;
    }

    NeuronId id(int i) {
        if (kind == NeuronKind.FFN) {
            return NeuronId.ffn(layer, i, position);
        }
        int row = i / sources;
        return NeuronId.attention(layer, row / headDim, row % headDim, i % sources, position, headDim);
    }
}
