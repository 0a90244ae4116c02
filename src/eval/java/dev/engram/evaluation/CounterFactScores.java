package dev.engram.evaluation;

import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import dev.engram.verification.ScoredPrompts;
import java.util.ArrayList;
import java.util.List;

/**
 * ROME's and MEMIT's per-record metrics on one model, from teacher-forced probabilities P(x) = exp(mean_i log p(x_i)):
 * ES = [P(new) > P(true)] on the edit prompt; PS = the share of paraphrases with P(new) > P(true); NS = the share of
 * neighbours with P(expected) > P(new). Records go through the model in packed passes of a few at a time.
 */
public final class CounterFactScores {
    private static final int RECORDS_PER_PASS = 8;

    /** One record's ES, PS and NS, each in [0, 1]. */
    public record Scores(double es, double ps, double ns) {
    }

    private CounterFactScores() {
    }

    public static List<Scores> of(Model model, List<EditCase> edits) {
        List<Scores> out = new ArrayList<>();
        for (int from = 0; from < edits.size(); from += RECORDS_PER_PASS) {
            out.addAll(pass(model, edits.subList(from, Math.min(edits.size(), from + RECORDS_PER_PASS))));
        }
        return out;
    }

    /** The mean of each metric over records, in [0, 1]. */
    public static Scores mean(List<Scores> scores) {
        return new Scores(scores.stream().mapToDouble(Scores::es).average().orElse(Double.NaN),
                scores.stream().mapToDouble(Scores::ps).average().orElse(Double.NaN),
                scores.stream().mapToDouble(Scores::ns).average().orElse(Double.NaN));
    }

    /** S: the harmonic mean of ES, PS and NS (ROME); 0 when any is 0. */
    public static double harmonic(Scores s) {
        if (s.es() <= 0 || s.ps() <= 0 || s.ns() <= 0) {
            return 0;
        }
        return 3 / (1 / s.es() + 1 / s.ps() + 1 / s.ns());
    }

    private static List<Scores> pass(Model model, List<EditCase> edits) {
        ScoredPrompts batch = new ScoredPrompts();
        List<int[][]> pairs = new ArrayList<>();
        for (EditCase e : edits) {
            List<int[]> prompts = new ArrayList<>();
            prompts.add(e.prompt());
            prompts.addAll(e.paraphrases());
            int[][] mine = new int[prompts.size() + e.neighbours().size()][2];
            for (int i = 0; i < prompts.size(); i++) {
                mine[i] = new int[] {batch.add(prompts.get(i), e.targetNew()), batch.add(prompts.get(i), e.targetTrue())};
            }
            for (int j = 0; j < e.neighbours().size(); j++) {
                Neighbour n = e.neighbours().get(j);
                mine[prompts.size() + j] = new int[] {batch.add(n.prompt(), n.expected()),
                        batch.add(n.prompt(), e.targetNew())};
            }
            pairs.add(mine);
        }
        ScoredPrompts.Scores scores = batch.run(model);
        List<Scores> out = new ArrayList<>();
        for (int r = 0; r < edits.size(); r++) {
            EditCase e = edits.get(r);
            int[][] mine = pairs.get(r);
            double es = newBeatsTrue(scores, mine[0], e) ? 1 : 0;
            int paraphrases = e.paraphrases().size();
            double ps = 0;
            for (int i = 1; i <= paraphrases; i++) {
                ps += newBeatsTrue(scores, mine[i], e) ? 1 : 0;
            }
            double ns = 0;
            for (int j = 0; j < e.neighbours().size(); j++) {
                int[] pair = mine[1 + paraphrases + j];
                ns += scores.meanLogProb(pair[0], e.neighbours().get(j).expected())
                        > scores.meanLogProb(pair[1], e.targetNew()) ? 1 : 0;
            }
            out.add(new Scores(es, paraphrases == 0 ? 1 : ps / paraphrases,
                    e.neighbours().isEmpty() ? 1 : ns / e.neighbours().size()));
        }
        return out;
    }

    private static boolean newBeatsTrue(ScoredPrompts.Scores scores, int[] pair, EditCase e) {
        return scores.meanLogProb(pair[0], e.targetNew()) > scores.meanLogProb(pair[1], e.targetTrue());
    }
}
