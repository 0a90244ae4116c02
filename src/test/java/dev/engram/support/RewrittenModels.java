package dev.engram.support;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.engram.runtime.LayerWeights;
import dev.engram.runtime.Model;
import dev.engram.runtime.ModelWeights;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import java.util.ArrayList;
import java.util.List;

/** Test-only: models whose matrices really contain a delta, to check the runtime's copy-free views against. */
public final class RewrittenModels {
    private RewrittenModels() {
    }

    /** A copy of the model with each delta entry written into its matrix (no tokenizer: it stays the source's). */
    public static Model rewrite(Model source, WeightDelta delta) {
        var manager = TestModels.root().newSubManager();
        ModelWeights w = source.weights().base();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < source.config().nLayers(); l++) {
            LayerWeights lw = w.layer(l);
            NDArray[] m = new NDArray[Param.values().length];
            for (Param p : Param.values()) {
                m[p.ordinal()] = lw.matrix(p) == null ? null : lw.matrix(p).duplicate();
                if (m[p.ordinal()] != null) {
                    m[p.ordinal()].attach(manager);
                }
            }
            for (WeightDelta.Entry e : delta.entries()) {
                if (e.layer() == l) {
                    NDArray target = m[e.param().ordinal()];
                    NDIndex where = e.slice() == WeightDelta.Slice.ROW
                            ? new NDIndex("{}, :", e.index()) : new NDIndex(":, {}", e.index());
                    target.set(where, target.get(where).add(manager.create(e.change())));
                }
            }
            layers.add(new LayerWeights(lw.attnNormWeight(), lw.attnNormBias(),
                    m[Param.ATTN_Q.ordinal()], m[Param.ATTN_K.ordinal()], m[Param.ATTN_V.ordinal()],
                    lw.bQ(), lw.bK(), lw.bV(), m[Param.ATTN_O.ordinal()], lw.bO(),
                    lw.ffnNormWeight(), lw.ffnNormBias(), m[Param.FFN_GATE.ordinal()], m[Param.FFN_UP.ordinal()],
                    lw.bUp(), m[Param.FFN_DOWN.ordinal()], lw.bDown()));
        }
        return new Model(source.name() + "-rewritten", source.config(), new ModelWeights(manager, w.tokenEmbedding(),
                w.positionEmbedding(), layers, w.finalNormWeight(), w.finalNormBias(), w.unembedding()), null);
    }
}
