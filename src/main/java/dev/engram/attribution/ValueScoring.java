package dev.engram.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.engram.runtime.Model;
import dev.engram.trace.Trace;
import java.util.List;

/**
 * What every value-neuron ranking shares at one position: the stack of base residuals, their logits and
 * log p(w | base), and the target w.
 *
 * @param bases        [2L + 1, d]: h^{l−1} at row 2l, mid^l at row 2l + 1, h^L at row 2L
 * @param baseLogits   s(base) for each row, [2L + 1, V], in the readout's mode
 * @param baseLogProbs log p(w | base) per row
 * @param firstOrder   rows q_w − q_p(base) of {@link Readout#firstOrderReadout}, [2L + 1, d], when the ranking is
 *                     bounded; else null
 */
record ValueScoring(Readout readout, int target, NDArray bases, NDArray baseLogits, double[] baseLogProbs,
        NDArray firstOrder) {

    /**
     * The scoring at position {@code t} of {@code trace} for target {@code w}: the readout (its FROZEN scale from
     * h_t^L), every base h^{l−1}, mid^l and h^L, their logits and log p(w | base), and, when {@code bounded}, the
     * first-order rows the bounds need. The arrays live in the caller's NDScope.
     */
    static ValueScoring at(Model model, Trace trace, int t, int w, NormMode mode, boolean bounded) {
        return Position.at(model, trace, t, mode, bounded).forTarget(w);
    }

    /**
     * What does not depend on the target at one position: the readout, the bases, their logits s(base) and
     * log-softmax, and (bounded) W_U·p(base) per base. Several targets at one position share it; the arrays live in
     * the caller's NDScope.
     */
    record Position(Readout readout, NDArray bases, NDArray baseLogits, NDArray baseLogSoftmax,
            NDArray expectedColumns) {

        static Position at(Model model, Trace trace, int t, NormMode mode, boolean bounded) {
            int layers = model.config().nLayers();
            NDArray finalResidual = trace.residPost(layers - 1).get(t);
            Readout readout = new Readout(model.config(), model.weights().base(), mode, finalResidual);
            // bases: h^{l−1} at row 2l, mid^l at row 2l + 1, h^L at row 2L
            NDList rows = new NDList();
            for (int l = 0; l < layers; l++) {
                rows.add(trace.residPre(l).get(t));
                rows.add(trace.residMid(l).get(t));
            }
            rows.add(finalResidual);
            NDArray bases = NDArrays.stack(rows);
            NDArray baseLogits = readout.logits(bases);
            NDArray logSoftmax = baseLogits.logSoftmax(-1);
            return new Position(readout, bases, baseLogits, logSoftmax,
                    bounded ? readout.expectedColumns(logSoftmax.exp()) : null);
        }

        /** The scoring for target {@code w}: log p(w | base) per base and, when bounded, the first-order rows. */
        ValueScoring forTarget(int w) {
            float[] lp = baseLogSoftmax.get(new NDIndex(":, {}", w)).toFloatArray();
            double[] logProbs = new double[lp.length];
            for (int i = 0; i < lp.length; i++) {
                logProbs[i] = lp[i];
            }
            NDArray firstOrder = expectedColumns == null ? null : readout.firstOrderReadout(w, expectedColumns);
            return new ValueScoring(readout, w, bases, baseLogits, logProbs, firstOrder);
        }
    }

    /** The rows of {@code table}'s neurons {@code indices}, each scaled by its coefficient: [B, d]. */
    static NDArray vectors(NeuronTable table, int[] indices) {
        long[] rows = new long[indices.length];
        float[] coefficients = new float[indices.length];
        for (int i = 0; i < indices.length; i++) {
            rows[i] = table.row(indices[i]);
            coefficients[i] = table.coefficients[indices[i]];
        }
        NDArray subvalues = table.weights.rows(table.layer, table.subvalueMatrix, rows);
        return subvalues.mul(subvalues.getManager().create(coefficients, new Shape(indices.length, 1)));
    }

    /** log_softmax(logits)_w − log p(w | base) for each row. */
    double[] gains(NDArray logits, long[] baseRows) {
        float[] logProbs = logits.logSoftmax(-1).get(new NDIndex(":, {}", target)).toFloatArray();
        double[] out = new double[logProbs.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = logProbs[i] - baseLogProbs[(int) baseRows[i]];
        }
        return out;
    }

    /** Stacks per-table vector blocks into one batch. */
    static NDArray concat(List<NDArray> blocks) {
        return blocks.size() == 1 ? blocks.get(0) : NDArrays.concat(new NDList(blocks), 0);
    }
}
