package dev.engram.service;

import static dev.engram.service.GrpcErrors.invalid;

import dev.engram.runtime.Model;
import io.grpc.Status;

/** Checks and tokenizes the prompt and the numeric bounds shared by the inference and attribution calls. */
public final class PromptRequests {
    private PromptRequests() {
    }

    /**
     * The prompt's token ids; INVALID_ARGUMENT if it is empty, tokenizes to nothing, or is longer than the context or
     * {@code maxTokens} (engram.max-prompt-tokens: a long prompt costs time and memory quadratic in its length).
     */
    public static int[] promptTokens(Model model, String prompt, int maxTokens) {
        if (prompt == null || prompt.isEmpty()) {
            throw invalid("prompt", "must not be empty");
        }
        if (!model.hasTokenizer()) {
            throw Status.FAILED_PRECONDITION.withDescription("model: '" + model.name()
                    + "' has no tokenizer; it accepts token ids only").asRuntimeException();
        }
        int context = model.config().maxSeqLen();
        int limit = Math.min(context, maxTokens);
        // no token spans 64 characters, so a prompt this long cannot fit whatever the tokenizer does
        if (prompt.length() > 64L * limit) {
            throw invalid("prompt", "has " + prompt.length() + " characters, far beyond the limit of "
                    + limit + " tokens");
        }
        int[] ids = model.tokenizer().encodePrompt(prompt);
        if (ids.length == 0) {
            throw invalid("prompt", "tokenizes to no tokens");
        }
        if (ids.length > context) {
            throw invalid("prompt", "is " + ids.length + " tokens, longer than the context of " + context
                    + " tokens of model '" + model.name() + "'");
        }
        if (ids.length > maxTokens) {
            throw invalid("prompt", "is " + ids.length + " tokens; this server takes at most " + maxTokens
                    + " (ENGRAM_MAX_PROMPT_TOKENS, engram.max-prompt-tokens)");
        }
        return ids;
    }

    /** What an unset top_k (0) of Predict and LocateFact means. */
    public static final int DEFAULT_TOP_K = 10;

    /** {@code value}, or {@code unset} when it is proto3's unset 0. */
    public static int orDefault(int value, int unset) {
        return value == 0 ? unset : value;
    }

    /** {@code value} if it lies in [min, max], else INVALID_ARGUMENT naming the field. */
    public static int inRange(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw invalid(field, "must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }
}
