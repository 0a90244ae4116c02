package dev.engram.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.engram.editing.ClosedFormOptions;
import dev.engram.editing.EditMethod;
import dev.engram.editing.EditMethods;
import dev.engram.editing.EditOptions;
import dev.engram.editing.LearnedOptions;
import dev.engram.grpc.v1.EditRequest;
import dev.engram.runtime.ModelConfig;
import dev.engram.support.SyntheticModels;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/** Requests choose an edit method through the registry: the enum, the method's own message, or older flat fields. */
class MethodMessagesTest {
    private static final ModelConfig CONFIG = SyntheticModels.llama(32, 10, 4, 2, 97, false);

    private static EditOptions options(String json) throws Exception {
        EditRequest.Builder b = EditRequest.newBuilder();
        JsonFormat.parser().merge("{\"options\": " + json + "}", b);
        return EditRequests.options(b.getOptions(), CONFIG, false);
    }

    @Test
    void everyRegisteredMethodHasAMessageAndItsDefaults() throws Exception {
        for (EditMethod<?> method : EditMethods.all()) {
            EditOptions o = options("{\"method\": \"" + MethodMessages.value(method).name() + "\"}");
            assertSame(method, o.method());
            assertEquals(method.defaults(), o.methodOptions());
        }
        assertSame(EditMethods.LEARNED, options("{}").method());
    }

    /**
     * A request that names no method gets SUBJECT_NEURON when it gives a subject and the model's FFN is gated, LEARNED
     * for a plain prompt or an ungated FFN (GPT-2's), which SUBJECT_NEURON cannot rewrite into a detector.
     */
    @Test
    void theDefaultMethodFollowsTheRequestAndTheModelFamily() {
        EditOptions none = EditRequests.options(dev.engram.grpc.v1.EditOptions.getDefaultInstance(), CONFIG, true);
        assertSame(EditMethods.SUBJECT_NEURON, none.method());
        assertEquals(EditMethods.SUBJECT_NEURON.defaults(), none.methodOptions());
        assertSame(EditMethods.LEARNED, EditRequests.options(dev.engram.grpc.v1.EditOptions.getDefaultInstance(),
                SyntheticModels.gpt2(32, 4, 4), true).method());
        assertSame(EditMethods.CLOSED_FORM, EditRequests.options(dev.engram.grpc.v1.EditOptions.newBuilder()
                .setMethod(dev.engram.grpc.v1.EditMethod.EDIT_METHOD_CLOSED_FORM).build(), CONFIG, true).method(),
                "a named method is kept");
    }

    @Test
    void aMethodMessageChoosesItsMethodAndSetsItsFields() throws Exception {
        EditOptions o = options("{\"closed_form\": {\"margin\": 5, \"steps\": 2}, \"neuron_budget\": 4}");
        assertEquals(new ClosedFormOptions(2, 5), o.methodOptions());
        assertEquals(4, o.neuronBudget());
        EditOptions l = options("{\"method\": \"EDIT_METHOD_LEARNED\", \"learned\": {\"learning_rate\": 0.02}}");
        assertEquals(LearnedOptions.defaults().withLearningRate(0.02), l.methodOptions());
    }

    /** A line of today's batches, with the flat fields, reads as it always did. */
    @Test
    void theFlatFieldsOfOlderBatchesStillApply() throws Exception {
        EditOptions closed = options("{\"method\": \"EDIT_METHOD_CLOSED_FORM\", \"margin\": 4, \"steps\": 3}");
        assertEquals(new ClosedFormOptions(3, 4), closed.methodOptions());
        EditOptions learned = options("{\"learning_rate\": 0.03, \"prefixes\": 0, \"contrast_weight\": 5, \"seed\": 9}");
        LearnedOptions d = LearnedOptions.defaults();
        assertEquals(new LearnedOptions(d.maxSteps(), 0.03, d.stopProbability(), d.klWeight(), 5, d.l2Weight(),
                d.repetitionWeight(), 0), learned.methodOptions());
        assertEquals(9, learned.seed());
        // the method's own message wins over a flat field
        assertEquals(new ClosedFormOptions(3, 7), options(
                "{\"margin\": 4, \"steps\": 3, \"closed_form\": {\"margin\": 7}}").methodOptions());
    }

    @Test
    void namingOneMethodAndGivingAnothersMessageIsRefused() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> options("{\"method\": \"EDIT_METHOD_LEARNED\", \"closed_form\": {\"margin\": 5}}"));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("options.method"), e.getStatus().getDescription());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> options("{\"method\": 7}"));
        assertTrue(unknown.getStatus().getDescription().contains("unknown method 7"));
    }

    @Test
    void outOfRangeMethodFieldsNameTheirField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> options("{\"closed_form\": {\"margin\": -1}}"));
        assertTrue(e.getMessage().startsWith("options.margin"), e.getMessage());
        IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                () -> options("{\"learned\": {\"steps\": 0}}"));
        assertTrue(steps.getMessage().startsWith("options.steps"), steps.getMessage());
        // a gate that never opens would leave the subject-neuron units nothing to solve with
        IllegalArgumentException sharpness = assertThrows(IllegalArgumentException.class,
                () -> options("{\"subject_neuron\": {\"sharpness\": 0}}"));
        assertTrue(sharpness.getMessage().startsWith("options.sharpness"), sharpness.getMessage());
        IllegalArgumentException ridge = assertThrows(IllegalArgumentException.class,
                () -> options("{\"subject_neuron\": {\"ridge\": -1}}"));
        assertTrue(ridge.getMessage().startsWith("options.ridge"), ridge.getMessage());
    }

}
