package dev.engram.inference;

import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

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
        return decode(ForwardPass.of(model), model, List.of(prompt), maxNewTokens, sink).get(0);
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
        ForwardPass pass = views.size() == 1 ? ForwardPass.of(views.get(0)) : ForwardPass.ofEach(views);
        return decode(pass, views.get(0), Collections.nCopies(views.size(), prompt), maxNewTokens,
                (i, id, p, s) -> true);
    }

    /**
     * The greedy continuations of several prompts on this generator's model, decoded side by side (one packed pass per
     * step): sequence k is what {@code generate(prompts.get(k), maxNewTokens)} gives. All stop together when the longest
     * reaches the model's context.
     */
    public List<int[]> generateEach(List<int[]> prompts, int maxNewTokens) {
        return decode(ForwardPass.of(model), model, prompts, maxNewTokens, (i, id, p, s) -> true);
    }

    /** Tokens a pass of {@link #generate(int[], int, CompletableFuture)} checks at most. */
    static final int GUESSED_PER_PASS = 16;

    /**
     * The greedy continuation of {@code prompt}, as {@link #generate(int[], int)} gives it, sped up by a guess of it
     * (speculative decoding with a guessed draft): {@code guess} yields tokens expected after the prompt, and may
     * arrive while decoding is under way. Once it is there and agrees with every token generated so far, one pass runs
     * the last token with up to {@value #GUESSED_PER_PASS} guessed tokens against the KV cache, keeps the guesses that
     * equal the model's own argmax at each position, adds the argmax after the last kept one and forgets the cached rows
     * of the rest. After the first wrong guess (or a guess that failed) decoding goes on one token per step. The weights
     * are read once per pass, so a right guess of n tokens costs about what two or three single steps do.
     */
    public int[] generate(int[] prompt, int maxNewTokens, CompletableFuture<int[]> guess) {
        int contextLength = model.config().maxSeqLen();
        int[] sequence = prompt.clone();
        if (maxNewTokens <= 0 || prompt.length >= contextLength) {
            return sequence;
        }
        int limit = Math.min(prompt.length + maxNewTokens, contextLength);
        ForwardPass pass = ForwardPass.of(model);
        try (KvCache cache = new KvCache(model)) {
            sequence = append(sequence, new NextTokenDistribution(pass.extend(prompt, cache)).argmax());
            boolean guessing = true;
            while (sequence.length < limit) {
                // the cache holds every token but the last
                boolean arrived = guessing && guess.isDone();
                int[] guessed = arrived ? usableGuess(guess, prompt, sequence, limit) : null;
                if (guessed == null) {
                    guessing = guessing && !arrived; // a guess that arrived and does not fit now never will
                    float[] logits = pass.extend(new int[] {sequence[sequence.length - 1]}, cache);
                    sequence = append(sequence, new NextTokenDistribution(logits).argmax());
                    continue;
                }
                float[][] each = pass.extendEach(append(new int[] {sequence[sequence.length - 1]}, guessed), cache);
                int kept = 0;
                while (kept < guessed.length && new NextTokenDistribution(each[kept]).argmax() == guessed[kept]) {
                    kept++;
                }
                sequence = append(sequence, Arrays.copyOf(guessed, kept));
                cache.truncate(sequence.length); // the run token and the kept guesses stay cached
                sequence = append(sequence, new NextTokenDistribution(each[kept]).argmax());
                guessing = kept == guessed.length;
            }
        }
        return sequence;
    }

    /**
     * The guessed tokens that follow {@code sequence}, when the guess arrived, agrees with everything generated so far
     * and reaches past it: at most {@value #GUESSED_PER_PASS}, and short enough that the token after them still fits
     * the limit. Null otherwise.
     */
    private static int[] usableGuess(CompletableFuture<int[]> guess, int[] prompt, int[] sequence, int limit) {
        if (guess.isCompletedExceptionally() || guess.isCancelled()) {
            return null;
        }
        int[] after = guess.join();
        int generated = sequence.length - prompt.length;
        int count = Math.min(Math.min(GUESSED_PER_PASS, after.length - generated), limit - sequence.length - 1);
        if (count <= 0 || !Arrays.equals(after, 0, generated, sequence, prompt.length, sequence.length)) {
            return null;
        }
        return Arrays.copyOfRange(after, generated, generated + count);
    }

    private static int[] append(int[] tokens, int... more) {
        int[] out = Arrays.copyOf(tokens, tokens.length + more.length);
        System.arraycopy(more, 0, out, tokens.length, more.length);
        return out;
    }

    /**
     * Decodes every sequence in lockstep through {@code pass} (sequence k from {@code prompts.get(k)}); the sink sees the
     * first sequence's tokens and may stop them all.
     */
    private static List<int[]> decode(ForwardPass pass, Model model, List<int[]> prompts, int maxNewTokens,
            TokenSink sink) {
        int contextLength = model.config().maxSeqLen();
        List<int[]> sequences = new ArrayList<>(prompts.stream().map(int[]::clone).toList());
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        if (maxNewTokens <= 0 || longest >= contextLength) {
            return sequences;
        }
        try (KvCache cache = new KvCache(model)) {
            List<int[]> next = new ArrayList<>(prompts);
            for (int i = 0; i < maxNewTokens; i++) {
                float[][] logits = pass.extend(next, cache);
                next = new ArrayList<>();
                double firstProbability = 0;
                for (int k = 0; k < sequences.size(); k++) {
                    NextTokenDistribution distribution = new NextTokenDistribution(logits[k]);
                    int id = distribution.argmax();
                    sequences.set(k, append(sequences.get(k), id));
                    next.add(new int[] {id});
                    if (k == 0) {
                        firstProbability = distribution.probability(id);
                    }
                }
                int[] first = sequences.get(0);
                if (!sink.accept(i, first[first.length - 1], firstProbability, first)
                        || longest + i + 1 >= contextLength) {
                    break;
                }
            }
        }
        return sequences;
    }
}
