package dev.engram.verification;

import dev.engram.editing.EarlierEdit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Which edits accepted earlier on a lineage a new edit's verification re-scores (the retention gate). An edit that a
 * later one on the same prompt superseded is not re-scored. Of the rest, all while they are at most {@code count};
 * beyond that the newest quarter of {@code count} and a seeded draw from the older ones, so that a long lineage costs a
 * bounded number of prompts per edit and, with a different seed per parent, every edit is re-scored now and then.
 */
public final class EarlierEdits {
    private EarlierEdits() {
    }

    /**
     * @param oldestFirst the lineage's accepted edits in commit order
     * @param count       at most this many are returned
     * @param seed        the draw's seed (the serving path uses the parent checkpoint's id)
     */
    public static List<EarlierEdit> sample(List<EarlierEdit> oldestFirst, int count, long seed) {
        List<EarlierEdit> current = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = oldestFirst.size() - 1; i >= 0; i--) {
            if (seen.add(Arrays.toString(oldestFirst.get(i).prompt()))) {
                current.add(oldestFirst.get(i));
            }
        }
        Collections.reverse(current);
        if (current.size() <= count) {
            return List.copyOf(current);
        }
        int newest = count / 4;
        List<EarlierEdit> older = new ArrayList<>(current.subList(0, current.size() - newest));
        Collections.shuffle(older, new Random(seed));
        List<EarlierEdit> out = new ArrayList<>(older.subList(0, count - newest));
        out.addAll(current.subList(current.size() - newest, current.size()));
        return List.copyOf(out);
    }
}
