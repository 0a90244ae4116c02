package dev.engram.editing;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.inference.TokenProbability;
import dev.engram.runtime.Model;
import dev.engram.runtime.WeightDelta;
import dev.engram.runtime.ViewMemo;
import dev.engram.trace.ForwardPass;
import dev.engram.trace.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The prompts a learned edit trains on: the edit prompt itself, and the edit prompt behind a few short prefixes the
 * model generates itself (ROME's context templates), so that the edit does not hinge on the prompt starting the text.
 * Paraphrases and neighbours never appear here.
 *
 * <p>The prefixes depend on the base model, their count and the seed, never on the prompt or on the edits a view
 * carries: as ROME generates its context templates once with the unedited model and reuses them for every later edit,
 * they are generated once per base model, count and seed, by the base model (no delta), and reused by every edit of
 * every view of it. (Generated per view, a key-value method regenerated them at every layer of its spread and a
 * lineage at every edit: about a second each on SmolLM2, half of a MEMIT edit's time.)
 */
public final class TrainingPrompts {
    /** Openings the prefixes grow from (ROME samples from similar short openings). */
    private static final String[] OPENINGS = {"The", "Therefore", "Because", "I", "You", "It"};
    private static final int PREFIX_TOKENS = 6;
    private static final int SAMPLE_TOP_K = 5;
    /** Prefix lists kept per view: at most this many (view, count, seed) combinations per base model. */
    private static final ViewMemo<List<String>> PREFIXES = new ViewMemo<>(64);

    private TrainingPrompts() {
    }

    /** The prompt alone, then {@code count} prefixed copies; deterministic in {@code seed}. */
    public static List<int[]> of(Model model, int[] prompt, int count, long seed) {
        List<int[]> out = new ArrayList<>();
        out.add(prompt.clone());
        if (count == 0 || !model.hasTokenizer()) {
            return out;
        }
        String promptText = model.tokenizer().decode(prompt).strip();
        for (String prefix : prefixes(model, count, seed)) {
            out.add(model.tokenizer().encodePrompt(prefix + ". " + promptText));
        }
        return out;
    }

    /**
     * The base model's {@code count} prefixes for {@code seed}, whatever delta {@code model} carries: generated on
     * first use, then the same list.
     */
    static List<String> prefixes(Model model, int count, long seed) {
        Model base = model.edited(WeightDelta.none());
        return PREFIXES.computeIfAbsent(base, count + "/" + seed, () -> generatePrefixes(base, count, seed));
    }

    /** {@code count} prefixes sampled from the model, deterministic in {@code seed}. */
    static List<String> generatePrefixes(Model model, int count, long seed) {
        Random random = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String opening = OPENINGS[random.nextInt(OPENINGS.length)];
            out.add(sample(model, opening, random));
        }
        return List.copyOf(out);
    }

    /** {@code opening} continued by a few tokens sampled from the model's top-k, cut at the first line break. */
    private static String sample(Model model, String opening, Random random) {
        int[] tokens = model.tokenizer().encodePrompt(opening);
        int start = tokens.length;
        try (KvCache cache = new KvCache(model)) {
            ForwardPass pass = ForwardPass.of(model);
            float[] logits = pass.extend(tokens, cache);
            for (int i = 0; i < PREFIX_TOKENS; i++) {
                List<TokenProbability> top = new NextTokenDistribution(logits).topK(SAMPLE_TOP_K, id -> "");
                int next = SampledCorpus.pick(top, random);
                tokens = Arrays.copyOf(tokens, tokens.length + 1);
                tokens[tokens.length - 1] = next;
                if (i + 1 < PREFIX_TOKENS) {
                    logits = pass.extend(new int[] {next}, cache);
                }
            }
        }
        String text = opening + model.tokenizer().decode(Arrays.copyOfRange(tokens, start, tokens.length));
        int newline = text.indexOf('\n');
        return (newline >= 0 ? text.substring(0, newline) : text).strip();
    }
}
