package dev.engram.editing;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.KvCache;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The text the key statistics are measured on ({@link KeyStatistics}): the model's own samples. ROME and MEMIT use
 * 100,000 Wikipedia samples; no such corpus reaches this machine, so the model writes its own: {@value #SEQUENCES}
 * sequences of {@value #TOKENS} tokens, each grown from a short opening by top-{@value #TOP_K} sampling at temperature
 * 1, all decoded side by side, deterministic in the seed.
 */
public final class SampledCorpus {
    public static final int SEQUENCES = 64;
    public static final int TOKENS = 128;
    static final int TOP_K = 40;
    private static final String[] OPENINGS = {"The", "In", "A", "It", "When", "This", "I", "He", "She", "We",
        "There", "After", "My", "One", "Today", "If"};

    private SampledCorpus() {
    }

    /** {@code sequences} samples of {@code tokens} tokens after their openings. */
    public static List<int[]> sample(Model model, int sequences, int tokens, long seed) {
        Random random = new Random(seed);
        List<int[]> openings = new ArrayList<>();
        for (int k = 0; k < sequences; k++) {
            openings.add(model.hasTokenizer() ? model.tokenizer().encodePrompt(OPENINGS[k % OPENINGS.length])
                    : new int[] {random.nextInt(model.config().vocabSize())});
        }
        return continued(model, openings, tokens, TOP_K, random);
    }

    /**
     * Each prompt continued by {@code tokens} tokens sampled from the model's top-{@code topK} at temperature 1, all
     * decoded side by side (ROME's generation for fluency uses top-k 5): the prompts with what followed.
     */
    public static List<int[]> continued(Model model, List<int[]> prompts, int tokens, int topK, Random random) {
        int sequences = prompts.size();
        List<int[]> out = new ArrayList<>(prompts.stream().map(int[]::clone).toList());
        List<int[]> next = new ArrayList<>(prompts);
        int steps = Math.min(tokens, model.config().maxSeqLen() - out.stream().mapToInt(s -> s.length).max().orElse(0));
        ForwardPass pass = ForwardPass.of(model);
        try (KvCache cache = new KvCache(model)) {
            for (int i = 0; i < steps; i++) {
                float[][] logits = pass.extend(next, cache);
                next = new ArrayList<>();
                for (int k = 0; k < sequences; k++) {
                    int id = pick(new NextTokenDistribution(logits[k]).topK(topK, t -> ""), random);
                    int[] grown = java.util.Arrays.copyOf(out.get(k), out.get(k).length + 1);
                    grown[grown.length - 1] = id;
                    out.set(k, grown);
                    next.add(new int[] {id});
                }
            }
        }
        return out;
    }

    /** Samples among the top-k in proportion to their probabilities. */
    static int pick(List<TokenProbability> top, Random random) {
        double total = top.stream().mapToDouble(TokenProbability::probability).sum();
        double u = random.nextDouble() * total;
        for (TokenProbability t : top) {
            u -= t.probability();
            if (u <= 0) {
                return t.id();
            }
        }
        return top.get(top.size() - 1).id();
    }
}
