package dev.engram.editing;

/** The range checks that several methods' options share, with the request field each message names. */
final class MethodOptionChecks {
    private MethodOptionChecks() {
    }

    /** Steps (or solves) between 1 and 1000. */
    static void steps(int steps) {
        if (steps <= 0 || steps > 1000) {
            throw new IllegalArgumentException("options.steps: must be between 1 and 1000, got " + steps);
        }
    }

    static void nonNegative(String field, double value) {
        if (!Double.isFinite(value) || value < 0) {
            throw new IllegalArgumentException(field + ": must be a non-negative finite number, got " + value);
        }
    }

    static void positive(String field, double value) {
        if (!Double.isFinite(value) || value <= 0) {
            throw new IllegalArgumentException(field + ": must be a positive finite number, got " + value);
        }
    }
}
