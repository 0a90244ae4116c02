package dev.engram.inference;

import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Greedy decoding: repeatedly append argmax p(· | prefix). The prompt runs once; each new token then runs alone
 * against the cached keys and values of the positions before it. Several views of one base model (a parent and its
 * edit) can decode the same prompt side by side, one packed pass per step ({@link ForwardPass#ofEach}).
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
        return decode(List.of(model), prompt, maxNewTokens, sink).get(0);
    }

    public int[] generate(int[] prompt, int maxNewTokens) {
        return generate(prompt, maxNewTokens, (i, id, p, s) -> true);
    }

    /**
     * The greedy continuation of {@code prompt} on each of {@code views} (views of one base model), decoded side by
     * side: sequence k is what {@code new GreedyGenerator(views.get(k)).generate(prompt, maxNewTokens)} gives, while
     * each step reads the base weights once for all of them.
     */
    public static List<int[]> generateEach(List<Model> views, int[] prompt, int maxNewTokens) {
        return decode(views, prompt, maxNewTokens, (i, id, p, s) -> true);
    }

    /** Decodes every view in lockstep; the sink sees the first view's tokens and may stop them all. */
    private static List<int[]> decode(List<Model> views, int[] prompt, int maxNewTokens, TokenSink sink) {
        int contextLength = views.get(0).config().maxSeqLen();
        List<int[]> sequences = new ArrayList<>(Collections.nCopies(views.size(), prompt.clone()));
        if (maxNewTokens <= 0 || prompt.length >= contextLength) {
            return sequences;
        }
        ForwardPass pass = views.size() == 1 ? ForwardPass.of(views.get(0)) : ForwardPass.ofEach(views);
        try (KvCache cache = new KvCache(views.get(0))) {
            List<int[]> next = new ArrayList<>(Collections.nCopies(views.size(), prompt));
            for (int i = 0; i < maxNewTokens; i++) {
                float[][] logits = pass.extend(next, cache);
                next = new ArrayList<>();
                double firstProbability = 0;
                for (int k = 0; k < views.size(); k++) {
                    NextTokenDistribution distribution = new NextTokenDistribution(logits[k]);
                    int id = distribution.argmax();
                    int[] grown = Arrays.copyOf(sequences.get(k), sequences.get(k).length + 1);
                    grown[grown.length - 1] = id;
                    sequences.set(k, grown);
                    next.add(new int[] {id});
                    if (k == 0) {
                        firstProbability = distribution.probability(id);
                    }
                }
                int[] first = sequences.get(0);
                if (!sink.accept(i, first[first.length - 1], firstProbability, first)
                        || first.length >= contextLength) {
                    break;
                }
            }
        }
        return sequences;
    }
}
