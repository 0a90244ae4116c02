package dev.engram.evaluation;

import dev.engram.attribution.NeuronId;
import dev.engram.attribution.NeuronKind;
import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.NeuronScaling;
import java.util.Collection;

/**
 * The paper's intervention: set the coefficients of the chosen neurons to 0, each at the position it writes to, re-run
 * the forward pass and read the gold token at the prompt's last position.
 */
public final class Ablation {
    private Ablation() {
    }

    public static GoldMetrics zeroing(Model model, int[] prompt, int gold, Collection<NeuronId> neurons) {
        NeuronScaling scaling = NeuronScaling.none();
        for (NeuronId n : neurons) {
            if (n.kind() == NeuronKind.FFN) {
                scaling.ffn(n.layer(), n.index(), n.position(), 0f);
            } else {
                scaling.attention(n.layer(), n.head(), n.dim(), n.source(), n.position(), 0f);
            }
        }
        float[] logits = ForwardPass.of(model).withScaling(scaling).lastLogits(prompt);
        return GoldMetrics.of(new NextTokenDistribution(logits), gold);
    }
}
