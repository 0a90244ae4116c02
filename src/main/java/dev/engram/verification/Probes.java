package dev.engram.verification;

import dev.engram.editing.EarlierEdit;
import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import dev.engram.runtime.ViewMemo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The prompts of one verification, registered once in a packed batch, and where each pair sits in it. */
final class Probes {
    final ScoredPrompts batch = new ScoredPrompts();
    final EditCase edit;
    final List<int[]> checkPrompts = new ArrayList<>();
    final List<int[]> sentinelTokens = new ArrayList<>();
    final List<Integer> newPairs = new ArrayList<>();
    final List<Integer> truePairs = new ArrayList<>();
    final List<Integer> expectedPairs = new ArrayList<>();
    final List<Integer> neighbourNewPairs = new ArrayList<>();
    final List<Integer> sentinelPairs = new ArrayList<>();
    final List<Integer> derivedTruePairs = new ArrayList<>();
    final List<Integer> derivedNewPairs = new ArrayList<>();
    final List<Integer> earlierNewPairs = new ArrayList<>();
    final List<Integer> earlierTruePairs = new ArrayList<>();

    Probes(Model parent, EditCase edit, List<String> sentinels) {
        this.edit = edit;
        checkPrompts.add(edit.prompt());
        checkPrompts.addAll(edit.paraphrases());
        if (parent.hasTokenizer()) {
            sentinels.forEach(s -> sentinelTokens.add(parent.tokenizer().encodePrompt(s)));
        }
        for (int[] p : checkPrompts) {
            newPairs.add(batch.add(p, edit.targetNew()));
            truePairs.add(batch.add(p, edit.targetTrue()));
        }
        for (Neighbour n : edit.neighbours()) {
            expectedPairs.add(batch.add(n.prompt(), n.expected()));
            neighbourNewPairs.add(batch.add(n.prompt(), edit.targetNew()));
        }
        for (int[] p : edit.derived()) {
            derivedTruePairs.add(batch.add(p, edit.targetTrue()));
            derivedNewPairs.add(batch.add(p, edit.targetNew()));
        }
        for (EarlierEdit e : edit.earlier()) {
            earlierNewPairs.add(batch.add(e.prompt(), e.targetNew()));
            earlierTruePairs.add(batch.add(e.prompt(), e.targetTrue()));
        }
        sentinelTokens.forEach(t -> sentinelPairs.add(batch.add(t, new int[0])));
    }

    /**
     * Every prompt scored on {@code view}; the sentinel prompts, the same for every edit verified on one view, are taken
     * from {@code sentinelRows} when it holds them for this view, and kept there otherwise.
     */
    ScoredPrompts.Scores score(Model view, ViewMemo<float[][]> sentinelRows) {
        Map<Integer, String> keys = new HashMap<>();
        sentinelPairs.forEach(k -> keys.put(k, Arrays.toString(batch.tokens(k))));
        ScoredPrompts.Scores scores = batch.run(view,
                k -> keys.containsKey(k) ? sentinelRows.get(view, keys.get(k)) : null);
        keys.forEach((k, key) -> sentinelRows.put(view, key, scores.rows(k)));
        return scores;
    }
}
