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

    /** The method of this name (case does not matter). */
    public static EditMethod<?> named(String name) {
        String wanted = name.toUpperCase(Locale.ROOT);
        return ALL.stream().filter(m -> m.name().equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("options.method: unknown method '" + name + "' ("
                        + String.join(", ", ALL.stream().map(EditMethod::name).toList()) + ")"));
    }
}
