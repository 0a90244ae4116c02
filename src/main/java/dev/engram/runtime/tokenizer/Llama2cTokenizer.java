package dev.engram.runtime.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The llama2.c tokenizer: SentencePiece-style BPE with byte fallback. Encoding prepends a space (the dummy prefix),
 * maps each UTF-8 character to its token (or its bytes to the byte tokens 3 + b), then repeatedly merges the
 * adjacent pair whose concatenation is a vocabulary token of the highest score.
 */
public final class Llama2cTokenizer implements TextTokenizer {
    public static final int BOS = 1;
    public static final int EOS = 2;
    private static final int BYTE_OFFSET = 3;

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();

    Llama2cTokenizer(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(pieces[i], i);
        }
    }

    /** Reads {@code tok*.bin}: int32 max_token_length, then per token float32 score, int32 length, bytes. */
    public static Llama2cTokenizer load(Path file, int vocabSize) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        b.getInt();
        String[] pieces = new String[vocabSize];
        float[] scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            scores[i] = b.getFloat();
            byte[] bytes = new byte[b.getInt()];
            b.get(bytes);
            pieces[i] = new String(bytes, StandardCharsets.UTF_8);
        }
        return new Llama2cTokenizer(pieces, scores);
    }

    @Override
    public int[] encodePrompt(String text) {
        List<Integer> out = new ArrayList<>();
        out.add(BOS);
        if (!text.isEmpty()) {
            out.addAll(bpe(" " + text));
        }
        return toArray(out);
    }

    @Override
    public int[] encodeContinuation(String text) {
        return toArray(bpe(text));
    }

    private List<Integer> bpe(String text) {
        List<Integer> tokens = new ArrayList<>();
        text.codePoints().forEach(cp -> {
            Integer id = ids.get(new String(Character.toChars(cp)));
            if (id != null) {
                tokens.add(id);
            } else {
                for (byte x : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    tokens.add((x & 0xff) + BYTE_OFFSET);
                }
            }
        });
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestAt = -1;
            for (int i = 0; i + 1 < tokens.size(); i++) {
                Integer merged = ids.get(pieces[tokens.get(i)] + pieces[tokens.get(i + 1)]);
                if (merged != null && scores[merged] > best) {
                    best = scores[merged];
                    bestId = merged;
                    bestAt = i;
                }
            }
            if (bestAt < 0) {
                return tokens;
            }
            tokens.set(bestAt, bestId);
            tokens.remove(bestAt + 1);
        }
    }

    @Override
    public String decode(int[] ids) {
        var bytes = new java.io.ByteArrayOutputStream();
        int previous = -1;
        for (int id : ids) {
            if (id != BOS && id != EOS) {
                String piece = pieces[id];
                if (previous == BOS && piece.startsWith(" ")) {
                    piece = piece.substring(1); // the dummy prefix after BOS is not text
                }
                int raw = rawByte(piece);
                if (raw >= 0) {
                    bytes.write(raw);
                } else {
                    bytes.writeBytes(piece.getBytes(StandardCharsets.UTF_8));
                }
            }
            previous = id;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The byte of a fallback token such as {@code <0x0A>}, or −1. */
    private static int rawByte(String piece) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            try {
                return Integer.parseInt(piece.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    @Override
    public String tokenString(int id) {
        return pieces[id];
    }

    private static int[] toArray(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

}
