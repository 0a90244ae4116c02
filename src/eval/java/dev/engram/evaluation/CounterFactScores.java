package dev.engram.evaluation;

import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import dev.engram.verification.ScoredPrompts;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * CounterFact's per-record metrics (ROME's evaluation code, method.md "CounterFact, exactly") on one model, from
 * teacher-forced probabilities P(x) = exp(mean_i log p(x_i)):
 * <ul>
 * <li>ES = [P(new) > P(true)] on the edit prompt; PS = the share of paraphrases with P(new) > P(true);</li>
 * <li>NS = the share of neighbourhood prompts (other subjects whose true answer is target_true) with
 * P(true) > P(new);</li>
 * <li>RS (not CounterFact's; our name) = the share of relation neighbours (other subjects, their own answers) with
 * P(answer) > P(new);</li>
 * <li>EM (efficacy magnitude) = P(new) − P(true) on the edit prompt.</li>
 * </ul>
 * A metric with no prompt to read is NaN, never 1. Records go through the model in packed passes of a few at a time.
 */
public final class CounterFactScores {
    private static final int RECORDS_PER_PASS = 6;

    /** One record's ES, PS, NS, RS in [0, 1] (NaN where it has no prompt for it), and EM in [−1, 1]. */
    public record Scores(double es, double ps, double ns, double rs, double em) {
    }

    private CounterFactScores() {
    }

    public static List<Scores> of(Model model, List<EditRecord> records) {
        List<Scores> out = new ArrayList<>();
        for (int from = 0; from < records.size(); from += RECORDS_PER_PASS) {
            out.addAll(pass(model, records.subList(from, Math.min(records.size(), from + RECORDS_PER_PASS))));
        }
        return out;
    }

    /** The mean of each metric over the records that have it. */
    public static Scores mean(List<Scores> scores) {
        return new Scores(mean(scores, Scores::es), mean(scores, Scores::ps), mean(scores, Scores::ns),
                mean(scores, Scores::rs), mean(scores, Scores::em));
    }

    private static double mean(List<Scores> scores, ToDoubleFunction<Scores> metric) {
        return scores.stream().mapToDouble(metric).filter(x -> !Double.isNaN(x)).average().orElse(Double.NaN);
    }

    /** S: the harmonic mean of ES, PS and NS (ROME); 0 when any is 0, NaN when any is NaN. */
    public static double harmonic(Scores s) {
        if (Double.isNaN(s.es()) || Double.isNaN(s.ps()) || Double.isNaN(s.ns())) {
            return Double.NaN;
        }
        if (s.es() <= 0 || s.ps() <= 0 || s.ns() <= 0) {
            return 0;
        }
        return 3 / (1 / s.es() + 1 / s.ps() + 1 / s.ns());
    }

    /** Where each prompt-and-target pair of a record sits in the packed batch. */
    private record Pairs(int[][] rewrite, int[][] paraphrase, int[][] neighbourhood, int[][] relation) {
    }

    private static List<Scores> pass(Model model, List<EditRecord> records) {
        ScoredPrompts batch = new ScoredPrompts();
        List<Pairs> pairs = new ArrayList<>();
        for (EditRecord r : records) {
            EditCase e = r.edit();
            int[][] rewrite = {{batch.add(e.prompt(), e.targetNew()), batch.add(e.prompt(), e.targetTrue())}};
            int[][] paraphrase = new int[e.paraphrases().size()][];
            for (int i = 0; i < paraphrase.length; i++) {
                paraphrase[i] = new int[] {batch.add(e.paraphrases().get(i), e.targetNew()),
                    batch.add(e.paraphrases().get(i), e.targetTrue())};
            }
            int[][] hood = new int[r.neighbourhood().size()][];
            for (int i = 0; i < hood.length; i++) {
                hood[i] = new int[] {batch.add(r.neighbourhood().get(i), e.targetNew()),
                    batch.add(r.neighbourhood().get(i), e.targetTrue())};
            }
            int[][] relation = new int[r.relationNeighbours().size()][];
            for (int i = 0; i < relation.length; i++) {
                Neighbour n = r.relationNeighbours().get(i);
                relation[i] = new int[] {batch.add(n.prompt(), e.targetNew()), batch.add(n.prompt(), n.expected())};
            }
            pairs.add(new Pairs(rewrite, paraphrase, hood, relation));
        }
        ScoredPrompts.Scores scores = batch.run(model);
        List<Scores> out = new ArrayList<>();
        for (int k = 0; k < records.size(); k++) {
            EditRecord r = records.get(k);
            EditCase e = r.edit();
            Pairs p = pairs.get(k);
            double pNew = Math.exp(scores.meanLogProb(p.rewrite()[0][0], e.targetNew()));
            double pTrue = Math.exp(scores.meanLogProb(p.rewrite()[0][1], e.targetTrue()));
            List<int[]> relationAnswers = r.relationNeighbours().stream().map(Neighbour::expected).toList();
            out.add(new Scores(pNew > pTrue ? 1 : 0,
                    share(scores, p.paraphrase(), e.targetNew(), null, e.targetTrue(), true),
                    share(scores, p.neighbourhood(), e.targetNew(), null, e.targetTrue(), false),
                    share(scores, p.relation(), e.targetNew(), relationAnswers, null, false),
                    pNew - pTrue));
        }
        return out;
    }

    /**
     * The share of pairs (new, other) where P(new) > P(other) ({@code newWins}) or P(other) > P(new); the other target
     * is {@code other}, or each pair's own from {@code others}. NaN for no pairs.
     */
    private static double share(ScoredPrompts.Scores scores, int[][] pairs, int[] targetNew, List<int[]> others,
            int[] other, boolean newWins) {
        if (pairs.length == 0) {
            return Double.NaN;
        }
        int wins = 0;
        for (int i = 0; i < pairs.length; i++) {
            double lNew = scores.meanLogProb(pairs[i][0], targetNew);
            double lOther = scores.meanLogProb(pairs[i][1], others == null ? other : others.get(i));
            wins += (newWins ? lNew > lOther : lOther > lNew) ? 1 : 0;
        }
        return wins / (double) pairs.length;
    }
}
