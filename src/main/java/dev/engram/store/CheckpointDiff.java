package dev.engram.store;

import dev.engram.runtime.WeightDelta;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The vectors that differ between two checkpoints of one model. Both are base + a composed delta, so for each vector
 * either delta touches: to − from = Δ_to − Δ_from (a vector only one of them touches has a zero change in the other).
 */
public final class CheckpointDiff {
    private CheckpointDiff() {
    }

    /**
     * One changed vector.
     *
     * @param key       which vector
     * @param deltaNorm ‖Δ_to − Δ_from‖
     * @param fromNorm  ‖Δ_from‖: how far {@code from} has moved it from the base
     * @param toNorm    ‖Δ_to‖
     * @param baseNorm  ‖the base vector‖
     */
    public record Changed(WeightDelta.Key key, double deltaNorm, double fromNorm, double toNorm, double baseNorm,
            int length) {
    }

    /** Vectors with ‖Δ_to − Δ_from‖ > 0, largest change first. */
    public static List<Changed> between(WeightDelta from, WeightDelta to) {
        Set<WeightDelta.Key> keys = new LinkedHashSet<>();
        from.entries().forEach(e -> keys.add(e.key()));
        to.entries().forEach(e -> keys.add(e.key()));
        List<Changed> out = new ArrayList<>();
        for (WeightDelta.Key key : keys) {
            WeightDelta.Entry a = from.get(key);
            WeightDelta.Entry b = to.get(key);
            WeightDelta.Entry any = a != null ? a : b;
            double diff = 0;
            for (int i = 0; i < any.length(); i++) {
                double d = (b == null ? 0 : b.changeAt(i)) - (a == null ? 0 : a.changeAt(i));
                diff += d * d;
            }
            if (diff > 0) {
                out.add(new Changed(key, Math.sqrt(diff), a == null ? 0 : a.changeNorm(),
                        b == null ? 0 : b.changeNorm(), any.originalNorm(), any.length()));
            }
        }
        out.sort(Comparator.comparingDouble(Changed::deltaNorm).reversed());
        return out;
    }

}
