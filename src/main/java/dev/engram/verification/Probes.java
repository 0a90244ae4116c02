package dev.engram.verification;

import dev.engram.editing.EarlierEdit;
import dev.engram.editing.EditCase;
import dev.engram.editing.Neighbour;
import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.List;

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
}
