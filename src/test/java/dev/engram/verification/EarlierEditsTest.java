package dev.engram.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.editing.EarlierEdit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The retention gate's sample of a lineage: bounded, newest edits always in, superseded edits out, seeded. */
class EarlierEditsTest {

    /** Edit {@code i} of a lineage: prompt [i], new answer [1000 + i], replaced answer [2000 + i]. */
    private static EarlierEdit edit(int i) {
        return new EarlierEdit(new int[] {i}, new int[] {1000 + i}, new int[] {2000 + i});
    }

    private static List<EarlierEdit> lineage(int n) {
        List<EarlierEdit> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(edit(i));
        }
        return out;
    }

    private static Set<Integer> prompts(List<EarlierEdit> edits) {
        Set<Integer> out = new HashSet<>();
        edits.forEach(e -> out.add(e.prompt()[0]));
        return out;
    }

    @Test
    void aShortLineageIsReScoredWhole() {
        List<EarlierEdit> sixteen = lineage(16);
        assertEquals(sixteen, EarlierEdits.sample(sixteen, 16, 1));
        assertTrue(EarlierEdits.sample(List.of(), 16, 1).isEmpty());
        assertTrue(EarlierEdits.sample(lineage(5), 0, 1).isEmpty(), "0 checks: retention off");
    }

    @Test
    void anEditALaterOneRestatedIsNotReScored() {
        List<EarlierEdit> edits = new ArrayList<>(lineage(3));
        EarlierEdit again = new EarlierEdit(new int[] {1}, new int[] {7}, new int[] {1001});
        edits.add(again);
        List<EarlierEdit> sample = EarlierEdits.sample(edits, 16, 1);
        assertEquals(3, sample.size());
        assertTrue(sample.contains(again));
        assertTrue(sample.stream().noneMatch(e -> e.targetNew()[0] == 1001), "the superseded answer is gone");
    }

    @Test
    void aLongLineageGivesTheNewestQuarterAndASeededDrawOfTheRest() {
        List<EarlierEdit> edits = lineage(1000);
        List<EarlierEdit> sample = EarlierEdits.sample(edits, 16, 42);
        assertEquals(16, sample.size());
        assertEquals(16, prompts(sample).size(), "no edit twice");
        assertTrue(prompts(sample).containsAll(Set.of(996, 997, 998, 999)), "the newest 16/4 are always in");
        assertEquals(sample, EarlierEdits.sample(edits, 16, 42), "the same seed, the same draw");
        assertNotEquals(prompts(sample), prompts(EarlierEdits.sample(edits, 16, 43)));
        Set<Integer> drawn = new HashSet<>();
        for (long seed = 0; seed < 2000; seed++) {
            drawn.addAll(prompts(EarlierEdits.sample(edits, 16, seed)));
        }
        assertEquals(1000, drawn.size(), "over many parents every edit is re-scored");
    }
}
