package dev.engram.editing;

import dev.engram.attribution.NeuronKind;
import dev.engram.runtime.Param;

/**
 * One subvalue vector an edit may change: FFN neuron (layer, k) is row k of W_down; attention neuron (layer, j, e) is
 * row j·d_head + e of W_O. An attention subvalue serves every source position and every query position of its head,
 * so editing it changes what head j writes wherever that dimension is active, not only at the edit prompt.
 *
 * @param kind   FFN or ATTENTION
 * @param layer  the block
 * @param row    the row of the subvalue matrix
 * @param reason why it was selected
 * @param score  its attribution score for the target it was selected for
 */
public record EditUnit(NeuronKind kind, int layer, int row, Reason reason, double score) {

    /** Which of the two located sets the unit came from. */
    public enum Reason {
        /** Among the top log-probability increases for target_true: it carries the fact being replaced. */
        CARRIES_TRUE,
        /** Among the top log-probability increases for target_new: it is best placed to promote the new answer. */
        PROMOTES_NEW
    }

    public Param matrix() {
        return kind == NeuronKind.FFN ? Param.FFN_DOWN : Param.ATTN_O;
    }

    /** Same vector, whatever the reason. */
    public boolean sameVector(EditUnit o) {
        return kind == o.kind && layer == o.layer && row == o.row;
    }
}
