package dev.engram.editing;

import dev.engram.attribution.AttributionOptions;
import dev.engram.attribution.Attributor;
import dev.engram.attribution.NeuronId;
import dev.engram.attribution.NeuronKind;
import dev.engram.attribution.NormMode;
import dev.engram.attribution.ScoredNeuron;
import dev.engram.attribution.StepAttribution;
import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.List;

/**
 * Picks the subvalues to edit with the attribution engine (one forward pass per target, no gradients): half the
 * budget from the neurons with the largest log-probability increase for target_true at the prompt (they carry the
 * old fact), the rest from those with the largest increase for target_new (their vocabulary projection already
 * leans towards the new answer). When one list runs short, the other fills the budget.
 */
public final class NeuronSelector {
    private final Model model;

    public NeuronSelector(Model model) {
        this.model = model;
    }

    public List<EditUnit> select(int[] prompt, int trueToken, int newToken, EditOptions options) {
        int budget = options.neuronBudget();
        // ranked among the allowed kinds and layers only; each list may have to fill the whole budget past the other's
        // choices (2 × budget), and attention neurons, one per source position, merge into fewer W_O rows
        int candidates = Math.min(AttributionOptions.MAX_TOP,
                options.kinds().contains(NeuronKind.ATTENTION) ? Math.max(64, 8 * budget) : 2 * budget);
        // both targets attributed from one forward pass of the prompt
        List<StepAttribution> steps = new Attributor(model).attributeNextTokens(prompt, new int[] {trueToken, newToken},
                AttributionOptions.valueNeuronsOnly(candidates, NormMode.FROZEN),
                (kind, layer) -> options.kinds().contains(kind) && !options.excludedLayers().contains(layer));
        List<EditUnit> carriers = located(steps.get(0).valueNeurons(), EditUnit.Reason.CARRIES_TRUE, options);
        List<EditUnit> promoters = located(steps.get(1).valueNeurons(), EditUnit.Reason.PROMOTES_NEW, options);
        List<EditUnit> chosen = new ArrayList<>();
        int fromCarriers = (budget + 1) / 2;
        takeInto(chosen, carriers, fromCarriers);
        takeInto(chosen, promoters, budget);
        takeInto(chosen, carriers, budget);
        return chosen;
    }

    private List<EditUnit> located(List<ScoredNeuron> ranked, EditUnit.Reason reason, EditOptions options) {
        List<EditUnit> out = new ArrayList<>();
        for (ScoredNeuron n : ranked) {
            NeuronId id = n.id();
            if (!options.kinds().contains(id.kind()) || options.excludedLayers().contains(id.layer())
                    || n.score() <= 0) {
                continue;
            }
            int row = id.kind() == NeuronKind.FFN
                    ? id.index() : id.head() * model.config().headDim() + id.dim();
            EditUnit unit = new EditUnit(id.kind(), id.layer(), row, reason, n.score());
            if (out.stream().noneMatch(unit::sameVector)) {
                out.add(unit);
            }
        }
        return out;
    }

    /** Adds units from {@code source} not yet chosen until {@code chosen} holds {@code limit}. */
    private static void takeInto(List<EditUnit> chosen, List<EditUnit> source, int limit) {
        for (EditUnit u : source) {
            if (chosen.size() >= limit) {
                return;
            }
            if (chosen.stream().noneMatch(u::sameVector)) {
                chosen.add(u);
            }
        }
    }
}
