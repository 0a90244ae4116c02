package dev.engram.editing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.attribution.NeuronKind;
import dev.engram.runtime.Model;
import dev.engram.trace.Trace;
import java.util.List;

/** The coefficient each selected subvalue is multiplied by at one position of a traced prompt. */
final class SubvalueCoefficients {
    private SubvalueCoefficients() {
    }

    /**
     * FFN neuron k: m_k at t (the activation that multiplies row k of W_down). Attention neuron (j, e):
     * Σ_p α_{t,p}^j · val_{p,e}^j, the weight of W_O row j·d_head + e at t.
     */
    static double[] at(Model model, Trace trace, List<EditUnit> units, int t) {
        double[] out = new double[units.size()];
        try (NDScope scope = new NDScope()) {
            for (int j = 0; j < units.size(); j++) {
                out[j] = of(model, trace, units.get(j), t);
            }
        }
        return out;
    }

    private static double of(Model model, Trace trace, EditUnit u, int t) {
        if (u.kind() == NeuronKind.FFN) {
            return trace.ffnCoefficients(u.layer()).getFloat(t, u.row());
        }
        int dh = model.config().headDim();
        int head = u.row() / dh;
        int dim = u.row() % dh;
        NDArray pattern = trace.pattern(u.layer()).get(new NDIndex("{}, {}, :{}", head, t, t + 1));
        NDArray value = trace.value(u.layer()).get(new NDIndex("{}, :{}, {}", head, t + 1, dim));
        return pattern.mul(value).sum().getFloat();
    }
}
