package dev.engram.service;

import static dev.engram.service.GrpcErrors.invalid;

import dev.engram.runtime.Model;
import io.grpc.Status;

/** Checks and tokenizes the prompt and the numeric bounds shared by the inference and attribution calls. */
public final class PromptRequests {
    private PromptRequests() {
    }

    /** The prompt's token ids; INVALID_ARGUMENT if it is empty, tokenizes to nothing or exceeds the context. */
    public static int[] promptTokens(Model model, String prompt) {
        if (prompt == null || prompt.isEmpty()) {
            throw invalid("prompt", "must not be empty");
        }
        if (!model.hasTokenizer()) {
            throw Status.FAILED_PRECONDITION.withDescription("model: '" + model.name()
                    + "' has no tokenizer; it accepts token ids only").asRuntimeException();
        }
        int context = model.config().maxSeqLen();
        // every token covers at least one character, so a prompt this long cannot fit whatever the tokenizer does
        if (prompt.length() > 64L * context) {
            throw invalid("prompt", "has " + prompt.length() + " characters, far beyond the context of "
                    + context + " tokens of model '" + model.name() + "'");
        }
        int[] ids = model.tokenizer().encodePrompt(prompt);
        if (ids.length == 0) {
            throw invalid("prompt", "tokenizes to no tokens");
        }
        if (ids.length > context) {
            throw invalid("prompt", "is " + ids.length + " tokens, longer than the context of " + context
                    + " tokens of model '" + model.name() + "'");
        }
        return ids;
    }

    /** {@code value} if it lies in [min, max], else INVALID_ARGUMENT naming the field. */
    public static int inRange(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw invalid(field, "must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }
}
