package dev.engram.inference;

import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import java.util.Arrays;
import java.util.function.IntPredicate;

/** Greedy decoding: repeatedly append argmax p(· | prefix). Re-runs the prefix each step (no KV cache yet). */
public final class GreedyGenerator {
    private final Model model;

    public GreedyGenerator(Model model) {
        this.model = model;
    }

    /**
     * Generates up to {@code maxNewTokens} tokens after {@code prompt}, calling {@code onToken} with each new id;
     * stops early when {@code onToken} returns false or the context is full.
     */
    public int[] generate(int[] prompt, int maxNewTokens, IntPredicate onToken) {
        int[] sequence = Arrays.copyOf(prompt, prompt.length);
        for (int step = 0; step < maxNewTokens && sequence.length < model.config().maxSeqLen(); step++) {
            int next = new NextTokenDistribution(ForwardPass.of(model).lastLogits(sequence)).argmax();
            sequence = Arrays.copyOf(sequence, sequence.length + 1);
            sequence[sequence.length - 1] = next;
            if (!onToken.test(next)) {
                break;
            }
        }
        return sequence;
    }
}
