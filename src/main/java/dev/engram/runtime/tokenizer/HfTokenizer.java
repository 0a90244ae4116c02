package dev.engram.runtime.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.engram.runtime.ModelFamily;
import java.io.IOException;
import java.nio.file.Path;

/** A {@code tokenizer.json} through DJL's bindings to the Rust tokenizers library. No truncation, no padding. */
public final class HfTokenizer implements TextTokenizer {
    private final HuggingFaceTokenizer tokenizer;

    private HfTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static HfTokenizer load(Path tokenizerJson, ModelFamily family) throws IOException {
        return new HfTokenizer(HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(family.prependsBos())
                .optTruncation(false)
                .optPadding(false)
                .build());
    }

    /**
     * A tokenizer from the text of a tokenizer.json (e.g. one rebuilt from GGUF metadata). Special tokens are added
     * exactly as its post-processor says.
     */
    public static HfTokenizer fromJson(String tokenizerJson) throws IOException {
        return new HfTokenizer(HuggingFaceTokenizer.newInstance(
                new java.io.ByteArrayInputStream(tokenizerJson.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                java.util.Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false")));
    }

    @Override
    public int[] encodePrompt(String text) {
        return toInts(tokenizer.encode(text, true, false).getIds());
    }

    @Override
    public int[] encodeContinuation(String text) {
        return toInts(tokenizer.encode(text, false, false).getIds());
    }

    @Override
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, false);
    }

    @Override
    public String tokenString(int id) {
        return decode(new int[] {id});
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
