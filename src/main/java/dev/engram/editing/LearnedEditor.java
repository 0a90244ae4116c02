package dev.engram.editing;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.engram.runtime.Cancellation;
import dev.engram.runtime.Model;
import dev.engram.runtime.Precision;
import java.util.List;

/**
 * Learns deltas δ for the selected subvalues only (FiNE, ICLR 2025): minimises {@link LearnedObjective}'s loss with
 * DJL autograd and {@link Adam}, stopping once every token of target_new, teacher-forced, has probability ≥ the stop
 * probability on every training prompt, or after the most steps allowed.
 */
public final class LearnedEditor {
    private final Model model;

    public LearnedEditor(Model model) {
        this.model = model;
    }

    /**
     * DJL's PyTorch engine allows one gradient collector at a time in the whole JVM; concurrent learned edits take
     * turns on this lock (locating and verifying still run in parallel).
     */
    static final Object AUTOGRAD = new Object();

    ComputedDelta train(EditCase edit, List<EditUnit> units, LearnedOptions options, long seed) {
        synchronized (AUTOGRAD) {
            return trainAlone(edit, units, options, seed);
        }
    }

    private ComputedDelta trainAlone(EditCase edit, List<EditUnit> units, LearnedOptions options, long seed) {
        try (NDManager manager = model.weights().manager().newSubManager();
                Precision.WidenedCopies widened = Precision.keepWidenedCopies()) {
            LearnedObjective objective = LearnedObjective.build(model, edit, units, options, seed, manager);
            int step = 0;
            double minProbability = 0;
            while (true) {
                Cancellation.checkpoint();
                minProbability = step(objective, step);
                if (minProbability >= options.stopProbability() || step == options.maxSteps()) {
                    break;
                }
                step++;
            }
            return new ComputedDelta(objective.delta(), step, minProbability, objective.trainingPrompts());
        }
    }

    /**
     * One forward/backward over every training sequence at the current δ. Returns min_s P(new) at this δ; when that is
     * below the stop probability and steps remain, δ takes one Adam step (t = step + 1).
     */
    private static double step(LearnedObjective objective, int step) {
        LearnedOptions options = objective.options();
        double minProbability;
        try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector();
                LearnedObjective.Loss loss = objective.loss()) {
            minProbability = loss.minProbability();
            if (minProbability >= options.stopProbability() || step == options.maxSteps()) {
                return minProbability;
            }
            if (!Double.isFinite(minProbability) || !Float.isFinite(loss.value().getFloat())) {
                // the caller's step size is what diverges: INVALID_ARGUMENT, not a fault of the server
                throw new IllegalArgumentException("options.learning_rate: the learned edit diverged at step " + step
                        + " (the loss is not finite); lower options.learning_rate");
            }
            collector.backward(loss.value());
        }
        Adam.step(objective.groups(), options.learningRate(), step + 1);
        return minProbability;
    }
}
