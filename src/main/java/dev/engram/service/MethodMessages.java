package dev.engram.service;

import static dev.engram.service.GrpcErrors.invalid;

import dev.engram.editing.AlphaEditOptions;
import dev.engram.editing.ClosedFormOptions;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.LayerRange;
import dev.engram.editing.LearnedOptions;
import dev.engram.editing.MemitOptions;
import dev.engram.editing.MethodOptions;
import dev.engram.editing.RomeOptions;
import dev.engram.editing.SubjectNeuronOptions;
import dev.engram.editing.TargetOptions;
import dev.engram.grpc.v1.EditOptions;
import java.util.List;
import java.util.function.Function;

/**
 * The proto side of the edit-method registry ({@link EditMethods}): for each method its enum value, its message in
 * {@code EditOptions.method_options}, and how that message (with the deprecated flat fields as fallbacks, so that
 * older batches run unchanged) becomes the method's options record. Adding a method adds one entry here.
 */
final class MethodMessages {
    /** One method as requests name it. */
    private record Entry(EditMethod<?> method, dev.engram.grpc.v1.EditMethod value,
            EditOptions.MethodOptionsCase message, Function<EditOptions, MethodOptions> read) {
    }

    private static final List<Entry> ENTRIES = List.of(
            new Entry(EditMethods.LEARNED, dev.engram.grpc.v1.EditMethod.EDIT_METHOD_LEARNED,
                    EditOptions.MethodOptionsCase.LEARNED, MethodMessages::learned),
            new Entry(EditMethods.CLOSED_FORM, dev.engram.grpc.v1.EditMethod.EDIT_METHOD_CLOSED_FORM,
                    EditOptions.MethodOptionsCase.CLOSED_FORM, MethodMessages::closedForm),
            new Entry(EditMethods.ROME, dev.engram.grpc.v1.EditMethod.EDIT_METHOD_ROME,
                    EditOptions.MethodOptionsCase.ROME, MethodMessages::rome),
            new Entry(EditMethods.MEMIT, dev.engram.grpc.v1.EditMethod.EDIT_METHOD_MEMIT,
                    EditOptions.MethodOptionsCase.MEMIT, MethodMessages::memit),
            new Entry(EditMethods.ALPHA_EDIT, dev.engram.grpc.v1.EditMethod.EDIT_METHOD_ALPHA_EDIT,
                    EditOptions.MethodOptionsCase.ALPHA_EDIT, MethodMessages::alphaEdit),
            new Entry(EditMethods.SUBJECT_NEURON, dev.engram.grpc.v1.EditMethod.EDIT_METHOD_SUBJECT_NEURON,
                    EditOptions.MethodOptionsCase.SUBJECT_NEURON, MethodMessages::subjectNeuron));
    private MethodMessages() {
    }

    /**
     * The chosen method, from the enum, the method message, or {@code fallback} when neither is set; the two must agree
     * where both are set.
     */
    static EditMethod<?> method(EditOptions o, EditMethod<?> fallback) {
        Entry byValue = o.getMethod() == dev.engram.grpc.v1.EditMethod.EDIT_METHOD_UNSPECIFIED ? null
                : ENTRIES.stream().filter(e -> e.value == o.getMethod()).findFirst()
                        .orElseThrow(() -> invalid("options.method", "unknown method " + o.getMethodValue()));
        Entry byMessage = o.getMethodOptionsCase() == EditOptions.MethodOptionsCase.METHODOPTIONS_NOT_SET ? null
                : ENTRIES.stream().filter(e -> e.message == o.getMethodOptionsCase()).findFirst().orElseThrow();
        if (byValue != null && byMessage != null && byValue != byMessage) {
            throw invalid("options.method", "names " + byValue.method.name() + " but options."
                    + byMessage.method.name() + " is given");
        }
        return byMessage != null ? byMessage.method : byValue != null ? byValue.method : fallback;
    }

    /**
     * The chosen method's options record ({@code fallback}'s when the request names no method). The deprecated flat fields are checked for every method, as they were
     * before methods had messages of their own: a NaN learning rate is refused in a closed-form request too.
     */
    static MethodOptions read(EditOptions o, EditMethod<?> fallback) {
        EditMethod<?> method = method(o, fallback);
        EditOptions flat = o.toBuilder().clearMethodOptions().build();
        ENTRIES.forEach(e -> e.read.apply(flat));
        return entry(method).read.apply(o);
    }

    /** The enum value that names {@code method} in responses. */
    static dev.engram.grpc.v1.EditMethod value(EditMethod<?> method) {
        return entry(method).value;
    }

    private static Entry entry(EditMethod<?> method) {
        return ENTRIES.stream().filter(e -> e.method == method).findFirst()
                .orElseThrow(() -> new IllegalStateException("no proto message for method " + method.name()));
    }

    private static LearnedOptions learned(EditOptions o) {
        var m = o.getLearned();
        LearnedOptions d = LearnedOptions.defaults();
        return new LearnedOptions(
                m.hasSteps() ? m.getSteps() : o.hasSteps() ? o.getSteps() : d.maxSteps(),
                m.hasLearningRate() ? m.getLearningRate() : o.hasLearningRate() ? o.getLearningRate() : d.learningRate(),
                m.hasStopProbability() ? m.getStopProbability()
                        : o.hasStopProbability() ? o.getStopProbability() : d.stopProbability(),
                m.hasKlWeight() ? m.getKlWeight() : o.hasKlWeight() ? o.getKlWeight() : d.klWeight(),
                m.hasContrastWeight() ? m.getContrastWeight()
                        : o.hasContrastWeight() ? o.getContrastWeight() : d.contrastWeight(),
                m.hasL2Weight() ? m.getL2Weight() : o.hasL2Weight() ? o.getL2Weight() : d.l2Weight(),
                m.hasRepetitionWeight() ? m.getRepetitionWeight()
                        : o.hasRepetitionWeight() ? o.getRepetitionWeight() : d.repetitionWeight(),
                m.hasPrefixes() ? m.getPrefixes() : o.hasPrefixes() ? o.getPrefixes() : d.prefixes());
    }

    private static ClosedFormOptions closedForm(EditOptions o) {
        var m = o.getClosedForm();
        ClosedFormOptions d = ClosedFormOptions.defaults();
        return new ClosedFormOptions(
                m.hasSteps() ? m.getSteps() : o.hasSteps() ? o.getSteps() : d.maxSolves(),
                m.hasMargin() ? m.getMargin() : o.hasMargin() ? o.getMargin() : d.margin());
    }

    private static RomeOptions rome(EditOptions o) {
        var m = o.getRome();
        RomeOptions d = RomeOptions.defaults();
        return new RomeOptions(m.hasLayer() ? m.getLayer() : d.layer(), target(m.getTarget(), d.target()));
    }

    private static MemitOptions memit(EditOptions o) {
        var m = o.getMemit();
        MemitOptions d = MemitOptions.defaults();
        return new MemitOptions(layers(m.hasFirstLayer(), m.getFirstLayer(), m.hasLastLayer(), m.getLastLayer()),
                m.hasCovarianceWeight() ? m.getCovarianceWeight() : d.covarianceWeight(),
                target(m.getTarget(), d.target()));
    }

    private static AlphaEditOptions alphaEdit(EditOptions o) {
        var m = o.getAlphaEdit();
        AlphaEditOptions d = AlphaEditOptions.defaults();
        return new AlphaEditOptions(layers(m.hasFirstLayer(), m.getFirstLayer(), m.hasLastLayer(), m.getLastLayer()),
                m.hasNullSpaceThreshold() ? m.getNullSpaceThreshold() : d.nullSpaceThreshold(),
                m.hasL2Weight() ? m.getL2Weight() : d.l2Weight(), target(m.getTarget(), d.target()));
    }

    private static SubjectNeuronOptions subjectNeuron(EditOptions o) {
        var m = o.getSubjectNeuron();
        SubjectNeuronOptions d = SubjectNeuronOptions.defaults();
        return new SubjectNeuronOptions(m.hasLayer() ? m.getLayer() : d.layer(), m.hasRidge() ? m.getRidge() : d.ridge(),
                m.hasSharpness() ? m.getSharpness() : d.sharpness(), target(m.getTarget(), d.target()));
    }

    private static LayerRange layers(boolean hasFirst, int first, boolean hasLast, int last) {
        return new LayerRange(hasFirst ? first : -1, hasLast ? last : -1);
    }

    private static TargetOptions target(dev.engram.grpc.v1.TargetOptions m, TargetOptions d) {
        return new TargetOptions(m.hasSteps() ? m.getSteps() : d.steps(),
                m.hasLearningRate() ? m.getLearningRate() : d.learningRate(),
                m.hasKlWeight() ? m.getKlWeight() : d.klWeight(),
                m.hasWeightDecay() ? m.getWeightDecay() : d.weightDecay(),
                m.hasClampFactor() ? m.getClampFactor() : d.clampFactor(),
                m.hasPrefixes() ? m.getPrefixes() : d.prefixes());
    }
}
