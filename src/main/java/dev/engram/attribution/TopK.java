package dev.engram.attribution;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/** The k best neurons seen so far, in {@link RankedNeuron#ORDER}; offering costs O(log k), and nothing when hopeless. */
final class TopK {
    private final int k;
    private final PriorityQueue<RankedNeuron> worstFirst = new PriorityQueue<>(RankedNeuron.ORDER.reversed());

    TopK(int k) {
        this.k = k;
    }

    /** Offers neuron {@code index} of {@code table}; the record is only built when it could enter. */
    void offer(NeuronTable table, int index, double score) {
        if (k == 0) {
            return;
        }
        if (worstFirst.size() < k) {
            worstFirst.add(new RankedNeuron(table, index, score));
        } else if (score >= worstFirst.peek().score()) {
            RankedNeuron candidate = new RankedNeuron(table, index, score);
            if (RankedNeuron.ORDER.compare(candidate, worstFirst.peek()) < 0) {
                worstFirst.poll();
                worstFirst.add(candidate);
            }
        }
    }

    /** Whether a neuron with {@code score} could enter (offering it might change the top k). */
    boolean couldTake(double score) {
        return k > 0 && (worstFirst.size() < k || score >= worstFirst.peek().score());
    }

    int capacity() {
        return k;
    }

    boolean full() {
        return worstFirst.size() == k;
    }

    /** The k-th best score so far (meaningful when {@link #full()}). */
    double threshold() {
        return worstFirst.peek().score();
    }

    List<RankedNeuron> sorted() {
        List<RankedNeuron> out = new ArrayList<>(worstFirst);
        out.sort(RankedNeuron.ORDER);
        return List.copyOf(out);
    }
}
