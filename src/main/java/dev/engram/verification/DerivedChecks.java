package dev.engram.verification;

import dev.engram.inference.NextTokenDistribution;
import dev.engram.runtime.Model;
import java.util.ArrayList;
import java.util.List;

/**
 * The derived prompts ({@link DerivedNeighbours}) sorted on the parent and checked on the edited model, nearest pool
 * subject first, at most {@value #MAX_EACH} of each kind:
 * <ul>
 * <li>same-object neighbours: the parent's top-1 is target_true's first token; the check is CounterFact's,
 * P(true) > P(new) with P = exp(mean token log-probability);</li>
 * <li>relation neighbours: the parent's top-1 is another token, with probability at least {@value #MIN_CONFIDENCE} and
 * a lead of at least {@value #MIN_MARGIN} nats over its runner-up; the check is that top-1 kept, and the KL of the
 * next-token distribution.</li>
 * </ul>
 * Prompts the parent answers with less confidence say nothing about the relation and are not checked: a near tie flips
 * under any change at all (on the development set, flips at KL 0.01–0.03 nats refused edits that moved nothing else).
 */
record DerivedChecks(List<NeighbourCheck> sameObject, List<NeighbourCheck> relation) {
    static final int MAX_EACH = 16;
    static final double MIN_CONFIDENCE = 0.1;
    /** log p(top-1) − log p(top-2) at least this (p(top-1) ≥ 1.65 · p(top-2)). */
    static final double MIN_MARGIN = 0.5;

    /** Whether the parent's answer is clear enough for a relation neighbour to say something when it flips. */
    static boolean clearAnswer(NextTokenDistribution parent) {
        return parent.probability(parent.argmax()) >= MIN_CONFIDENCE && parent.topMargin() >= MIN_MARGIN;
    }

    static DerivedChecks of(Model parent, Model edited, Probes probes, ScoredPrompts.Scores before,
            ScoredPrompts.Scores after) {
        List<NeighbourCheck> sameObject = new ArrayList<>();
        List<NeighbourCheck> relation = new ArrayList<>();
        int[] targetTrue = probes.edit.targetTrue();
        int[] targetNew = probes.edit.targetNew();
        for (int i = 0; i < probes.edit.derived().size(); i++) {
            int truePair = probes.derivedTruePairs.get(i);
            int newPair = probes.derivedNewPairs.get(i);
            NextTokenDistribution b = new NextTokenDistribution(before.rows(truePair)[0]);
            NextTokenDistribution a = new NextTokenDistribution(after.rows(truePair)[0]);
            int parentTop = b.argmax();
            int[] prompt = probes.edit.derived().get(i);
            if (parentTop == targetTrue[0]) {
                if (sameObject.size() < MAX_EACH) {
                    sameObject.add(new NeighbourCheck(prompt, targetTrue, true, a.argmax() == parentTop,
                            Verifier.kl(b, a),
                            after.meanLogProb(truePair, targetTrue) > after.meanLogProb(newPair, targetNew),
                            before.meanLogProb(truePair, targetTrue) > before.meanLogProb(newPair, targetNew),
                            Verifier.top(parent, b), Verifier.top(edited, a)));
                }
            } else if (clearAnswer(b) && relation.size() < MAX_EACH) {
                int[] answer = {parentTop};
                relation.add(new NeighbourCheck(prompt, answer, true, a.argmax() == parentTop, Verifier.kl(b, a),
                        a.logProbability(parentTop) > after.meanLogProb(newPair, targetNew),
                        b.logProbability(parentTop) > before.meanLogProb(newPair, targetNew),
                        Verifier.top(parent, b), Verifier.top(edited, a)));
            }
        }
        return new DerivedChecks(List.copyOf(sameObject), List.copyOf(relation));
    }
}
