package dev.engram.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Every row of the ledger as one transaction saw it: what a backup holds and a restore writes back.
 *
 * @param checkpoints the committed edits, in commit order
 * @param heads       each model's head ({@link CheckpointStore#BASE} for the base weights) and when it last moved
 * @param moves       every head move, in order
 */
public record LedgerSnapshot(List<CheckpointRecord> checkpoints, List<ModelHead> heads, List<HeadMove> moves) {
    /** One model's head row. */
    public record ModelHead(String model, String checkpointId, Instant movedAt) {
    }

    /** The checkpoints with every parent before its children: the order their rows can be inserted in. */
    List<CheckpointRecord> parentsFirst() {
        List<CheckpointRecord> out = new ArrayList<>();
        Set<String> placed = new HashSet<>(Set.of(CheckpointStore.BASE));
        List<CheckpointRecord> left = new ArrayList<>(checkpoints);
        while (!left.isEmpty()) {
            int before = left.size();
            left.removeIf(r -> {
                if (!placed.contains(r.parentId())) {
                    return false;
                }
                out.add(r);
                placed.add(r.id());
                return true;
            });
            if (left.size() == before) {
                throw new IllegalArgumentException("the ledger's checkpoint " + left.get(0).id()
                        + " names a parent that it does not hold");
            }
        }
        return out;
    }
}
