package dev.engram.runtime;

import dev.engram.runtime.tokenizer.TextTokenizer;

/**
 * A loaded model: its configuration, its weights and (where the files carry one) its tokenizer.
 *
 * @param name      the name clients use
 * @param config    shape and hyper-parameters
 * @param weights   parameters, owned by this model
 * @param tokenizer null when the checkpoint has none (token ids only)
 */
public record Model(String name, ModelConfig config, ModelWeights weights, TextTokenizer tokenizer)
        implements AutoCloseable {

    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    @Override
    public void close() {
        weights.close();
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
