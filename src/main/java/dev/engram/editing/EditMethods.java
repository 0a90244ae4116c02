package dev.engram.editing;

import java.util.List;
import java.util.Locale;

/** The edit methods a request can choose: the registry. Adding a method adds its class here. */
public final class EditMethods {
    public static final LearnedMethod LEARNED = LearnedMethod.INSTANCE;
    public static final ClosedFormMethod CLOSED_FORM = ClosedFormMethod.INSTANCE;
    public static final RomeMethod ROME = RomeMethod.INSTANCE;
    public static final MemitMethod MEMIT = MemitMethod.INSTANCE;
    public static final AlphaEditMethod ALPHA_EDIT = AlphaEditMethod.INSTANCE;
    public static final SubjectNeuronMethod SUBJECT_NEURON = SubjectNeuronMethod.INSTANCE;
    private static final List<EditMethod<?>> ALL = List.of(LEARNED, CLOSED_FORM, ROME, MEMIT, ALPHA_EDIT, SUBJECT_NEURON);

    private EditMethods() {
    }

    public static List<EditMethod<?>> all() {
        return ALL;
    }

    /**
     * The method of a request that names none: SUBJECT_NEURON where it applies (the request gives a subject and the
     * model's FFN is gated: its detector reads the subject's FFN input and rewrites a gated unit), LEARNED otherwise (a
     * plain prompt has no subject to condition on). EVALUATION.md §3 compares them.
     */
    public static EditMethod<?> defaultFor(dev.engram.runtime.ModelConfig model, boolean hasSubject) {
        return hasSubject && model.family().feedForward().gated() ? SUBJECT_NEURON : LEARNED;
    }

    /** The method of this name (case does not matter). */
    public static EditMethod<?> named(String name) {
        String wanted = name.toUpperCase(Locale.ROOT);
        return ALL.stream().filter(m -> m.name().equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("options.method: unknown method '" + name + "' ("
                        + String.join(", ", ALL.stream().map(EditMethod::name).toList()) + ")"));
    }
}
