package dev.engram.runtime;

import dev.engram.runtime.tokenizer.TextTokenizer;

/**
 * A loaded model, or an edited view of one: its configuration, its effective weights (base + sparse delta) and
 * (where the files carry one) its tokenizer. Views made by {@link #edited} share the base's weights and tokenizer;
 * only the base model frees them.
 *
 * @param name      the name clients use
 * @param config    shape and hyper-parameters
 * @param weights   the effective weights every reader uses
 * @param tokenizer null when the checkpoint has none (token ids only)
 */
public record Model(String name, ModelConfig config, EffectiveWeights weights, TextTokenizer tokenizer)
        implements AutoCloseable {

    /** A base model that owns {@code weights}. */
    public Model(String name, ModelConfig config, ModelWeights weights, TextTokenizer tokenizer) {
        this(name, config, EffectiveWeights.of(weights), tokenizer);
    }

    /** This model's base weights plus {@code delta} (replacing any delta this view has). */
    public Model edited(WeightDelta delta) {
        return new Model(name, config, weights.withDelta(delta), tokenizer);
    }

    /** The delta this view applies to the base (empty for the base model). */
    public WeightDelta delta() {
        return weights.delta();
    }

    /** A builder for a delta on this view's effective weights: originals are read from them. */
    public WeightDelta.Builder deltaBuilder() {
        return WeightDelta.builder(config, weights::vector);
    }

    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    @Override
    public void close() {
        if (!weights.ownsBase()) {
            return;
        }
        weights.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
