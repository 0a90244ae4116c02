package dev.engram.store;

/** A commit or rollback expected the model's head at {@code expected}, but another writer had moved it to {@code actual}. */
public final class HeadMovedException extends Exception {
    private final String model;
    private final String expected;
    private final String actual;

    public HeadMovedException(String model, String expected, String actual) {
        super("the head of model '" + model + "' is now " + actual + ", not " + expected
                + ": another commit or rollback won; redo the edit on the new head");
        this.model = model;
        this.expected = expected;
        this.actual = actual;
    }

    public String model() {
        return model;
    }

    public String expected() {
        return expected;
    }

    public String actual() {
        return actual;
    }
}
