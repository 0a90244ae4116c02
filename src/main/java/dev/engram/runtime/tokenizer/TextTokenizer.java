package dev.engram.runtime.tokenizer;

/** Text ↔ token ids, with the model's own conventions for the start of a prompt. */
public interface TextTokenizer extends AutoCloseable {

    /** A prompt as the model expects it: BOS and the tokenizer's prefix rules included where the model uses them. */
    int[] encodePrompt(String text);

    /** Text that continues a prompt (a target such as " Paris"): no BOS, no dummy prefix. */
    int[] encodeContinuation(String text);

    /** The text of a token sequence. */
    String decode(int[] ids);

    /** The surface string of one token, as the vocabulary holds it. */
    String tokenString(int id);

    @Override
    default void close() {
    }
}
