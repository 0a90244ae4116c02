package dev.engram.inference;

import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import java.util.Arrays;

/** Greedy decoding: repeatedly append argmax p(· | prefix). Re-runs the prefix each step (no KV cache yet). */
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
        for (int i = 0; i < maxNewTokens && sequence.length < model.config().maxSeqLen(); i++) {
            NextTokenDistribution next = new NextTokenDistribution(ForwardPass.of(model).lastLogits(sequence));
            int id = next.argmax();
            sequence = Arrays.copyOf(sequence, sequence.length + 1);
            sequence[sequence.length - 1] = id;
            if (!sink.accept(i, id, next.probability(id), sequence)) {
                break;
            }
        }
        return sequence;
    }

    public int[] generate(int[] prompt, int maxNewTokens) {
        return generate(prompt, maxNewTokens, (i, id, p, s) -> true);
    }
}
