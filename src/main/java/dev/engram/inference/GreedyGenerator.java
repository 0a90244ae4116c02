package dev.engram.inference;

import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.KvCache;
import java.util.Arrays;

/**
 * Greedy decoding: repeatedly append argmax p(· | prefix). The prompt runs once; each new token then runs alone
 * against the cached keys and values of the positions before it.
 */
public final class GreedyGenerator {
    /** Receives each generated token; returns false to stop. */
    @FunctionalInterface
    public interface TokenSink {
        boolean accept(int index, int id, double probability, int[] sequence);
    }

    private final Model model;

    public GreedyGenerator(Model model) {
        this.model = model;
    }

    /** Up to {@code maxNewTokens} tokens after {@code prompt}; stops early when the sink says so or the context is full. */
    public int[] generate(int[] prompt, int maxNewTokens, TokenSink sink) {
        int[] sequence = Arrays.copyOf(prompt, prompt.length);
        if (maxNewTokens <= 0 || sequence.length >= model.config().maxSeqLen()) {
            return sequence;
        }
        ForwardPass pass = ForwardPass.of(model);
        try (KvCache cache = new KvCache(model)) {
            float[] logits = pass.extend(prompt, cache);
            for (int i = 0; i < maxNewTokens; i++) {
                NextTokenDistribution next = new NextTokenDistribution(logits);
                int id = next.argmax();
                sequence = Arrays.copyOf(sequence, sequence.length + 1);
                sequence[sequence.length - 1] = id;
                if (!sink.accept(i, id, next.probability(id), sequence) || i + 1 == maxNewTokens
                        || sequence.length >= model.config().maxSeqLen()) {
                    break;
                }
                logits = pass.extend(new int[] {id}, cache);
            }
        }
        return sequence;
    }

    public int[] generate(int[] prompt, int maxNewTokens) {
        return generate(prompt, maxNewTokens, (i, id, p, s) -> true);
    }
}
