package dev.engram.editing;

/**
 * The closed-form method's settings ({@link ClosedFormMethod}).
 *
 * @param maxSolves refinement solves at most
 * @param margin    the log-odds log p(new) − log p(true) to reach at the prompt
 */
public record ClosedFormOptions(int maxSolves, double margin) implements MethodOptions {

    public ClosedFormOptions {
        MethodOptionChecks.steps(maxSolves);
        if (!Double.isFinite(margin) || margin <= 0) {
            throw new IllegalArgumentException("options.margin: must be a positive finite number, got " + margin);
        }
    }

    /** 6 solves towards a margin of 3 nats. */
    public static ClosedFormOptions defaults() {
        return new ClosedFormOptions(6, 3.0);
    }

    @Override
    public EditMethod<?> method() {
        return ClosedFormMethod.INSTANCE;
    }

    public ClosedFormOptions withSolves(int solves) {
        return new ClosedFormOptions(solves, margin);
    }
}
