package dev.engram.editing;

import dev.engram.attribution.NeuronKind;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;

/**
 * How an edit is made: what every method shares (which units may change), and the chosen method's own settings.
 *
 * @param methodOptions  the method and its settings
 * @param neuronBudget   how many subvalue vectors may change (true-carriers and new-promoters together)
 * @param kinds          which neurons may be edited: FFN value neurons (rows of W_down), attention value neurons
 *                       (rows of W_O, i.e. columns of the HF o_proj)
 * @param excludedLayers layers whose neurons are never edited
 * @param seed           seeds whatever the method draws at random; the same seed gives the same delta
 */
public record EditOptions(MethodOptions methodOptions, int neuronBudget, Set<NeuronKind> kinds,
        Set<Integer> excludedLayers, long seed) {

    public EditOptions {
        if (methodOptions == null) {
            throw new IllegalArgumentException("options.method: must be given");
        }
        if (neuronBudget <= 0) {
            throw new IllegalArgumentException("options.neuron_budget: must be positive, got " + neuronBudget);
        }
        if (kinds == null || kinds.isEmpty()) {
            throw new IllegalArgumentException("options.neuron_kinds: must name at least one kind");
        }
        kinds = Set.copyOf(kinds);
        excludedLayers = Set.copyOf(excludedLayers);
    }

    /** The method these options choose. */
    public EditMethod<?> method() {
        return methodOptions.method();
    }

    /**
     * Defaults for {@code method} on a model of {@code layers} blocks: the method's own defaults, and 10 FFN neurons
     * outside the last tenth of the layers (FiNE leaves the last layers out: their neurons write the output for every
     * prompt). Chosen on the development edits in src/test/resources/dev.
     */
    public static EditOptions defaults(EditMethod<?> method, int layers) {
        return new EditOptions(method.defaults(), 10, EnumSet.of(NeuronKind.FFN), lastTenth(layers), 0);
    }

    /** The last tenth of {@code layers} blocks (none below 10 layers). */
    public static Set<Integer> lastTenth(int layers) {
        Set<Integer> out = new HashSet<>();
        for (int l = layers - layers / 10; l < layers; l++) {
            out.add(l);
        }
        return out;
    }

    public EditOptions withMethodOptions(MethodOptions o) {
        return new EditOptions(o, neuronBudget, kinds, excludedLayers, seed);
    }

    public EditOptions withBudget(int budget) {
        return new EditOptions(methodOptions, budget, kinds, excludedLayers, seed);
    }

    public EditOptions withKinds(Set<NeuronKind> k) {
        return new EditOptions(methodOptions, neuronBudget, k, excludedLayers, seed);
    }

    public EditOptions withSeed(long s) {
        return new EditOptions(methodOptions, neuronBudget, kinds, excludedLayers, s);
    }
}
