package dev.engram.service;

import dev.engram.grpc.v1.GenerateResponse;
import dev.engram.inference.GreedyGenerator;
import dev.engram.runtime.Model;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * Greedy generation as a stream of tokens with text deltas: the continuation is decoded whole after each token and
 * only the new suffix is sent, so a multi-byte character split across tokens comes out intact.
 */
final class TokenStreamer {
    private final Model model;
    private final int[] prompt;
    private String sentText = "";

    TokenStreamer(Model model, int[] prompt) {
        this.model = model;
        this.prompt = prompt;
    }

    /** Emits up to {@code limit} tokens; stops early at the end of the context or when {@code sink} says so. */
    void stream(int limit, Predicate<GenerateResponse> sink) {
        new GreedyGenerator(model).generate(prompt, limit, (index, id, probability, sequence) -> {
            String text = model.tokenizer().decode(Arrays.copyOfRange(sequence, prompt.length, sequence.length));
            String delta = "";
            if (text.startsWith(sentText) && !text.endsWith("\uFFFD")) { // U+FFFD: an incomplete UTF-8 character
                delta = text.substring(sentText.length());
                sentText = text;
            }
            return sink.test(GenerateResponse.newBuilder().setIndex(index).setId(id).setTextDelta(delta)
                    .setProbability(probability).build());
        });
    }
}
