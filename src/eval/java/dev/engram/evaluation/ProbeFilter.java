package dev.engram.evaluation;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import dev.engram.trace.ForwardPass;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The paper's filter, per model: keep a probe when its gold token is in the model's top-10 next tokens and ranks above
 * the gold tokens of every other probe of its type (the type's candidates).
 */
public final class ProbeFilter {
    static final int TOP = 10;

    /** A probe that survived, in tokens, with the unintervened gold rank (1 = top). */
    public record Probe(KnowledgeItem item, int[] prompt, int gold, int rank) {
    }

    /** The survivors, and how many probes each type had and kept. */
    public record Filtered(List<Probe> probes, Map<String, int[]> keptOfTotal) {
    }

    private ProbeFilter() {
    }

    public static Filtered apply(Model model, List<KnowledgeItem> items) {
        Map<String, Set<Integer>> candidates = new LinkedHashMap<>();
        for (KnowledgeItem item : items) {
            candidates.computeIfAbsent(item.type(), t -> new LinkedHashSet<>()).add(goldToken(model, item));
        }
        List<Probe> kept = new ArrayList<>();
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (KnowledgeItem item : items) {
            int[] prompt = model.tokenizer().encodePrompt(item.prompt());
            int gold = goldToken(model, item);
            NextTokenDistribution next = new NextTokenDistribution(ForwardPass.of(model).lastLogits(prompt));
            int rank = next.rank(gold);
            boolean abovePeers = candidates.get(item.type()).stream()
                    .allMatch(c -> c == gold || next.logProbability(c) < next.logProbability(gold));
            int[] count = counts.computeIfAbsent(item.type(), t -> new int[2]);
            count[1]++;
            if (rank <= TOP && abovePeers) {
                count[0]++;
                kept.add(new Probe(item, prompt, gold, rank));
            }
        }
        return new Filtered(kept, counts);
    }

    static int goldToken(Model model, KnowledgeItem item) {
        return model.tokenizer().encodeContinuation(item.gold())[0];
    }
}
