package dev.engram.runtime.load.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.runtime.load.Dtype;
import dev.engram.support.GgufWriter;
import dev.engram.support.GgufWriter.Value;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small GGUF files written by the test, one per tensor type, read back and compared with values computed here
 * straight from each block format's definition (ggml-common.h).
 */
class GgufFileTest {
    @TempDir
    Path temp;

    private static final int BLOCKS = 6;
    private static final int N = BLOCKS * 32;

    /** Random raw blocks of {@code type}, with finite f16 scales. */
    private static byte[] randomBlocks(GgmlType type, Random rng) {
        ByteBuffer b = ByteBuffer.allocate(BLOCKS * type.blockBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int block = 0; block < BLOCKS; block++) {
            b.putShort(Dtype.floatToF16((float) rng.nextGaussian() * 0.05f));
            if (type == GgmlType.Q4_1) {
                b.putShort(Dtype.floatToF16((float) rng.nextGaussian() * 0.3f));
            }
            byte[] q = new byte[type == GgmlType.Q8_0 ? 32 : 16];
            rng.nextBytes(q);
            b.put(q);
        }
        return b.array();
    }

    /** The definition, element by element: value i lives in block i/32 at position i%32. */
    private static float[] expected(GgmlType type, byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[N];
        for (int i = 0; i < N; i++) {
            int base = (i / 32) * type.blockBytes;
            int j = i % 32;
            float d = Dtype.f16ToFloat(b.getShort(base));
            switch (type) {
                case Q8_0 -> out[i] = d * b.get(base + 2 + j); // x = d·q, q signed 8-bit
                case Q4_0 -> {
                    int nibble = j < 16 ? b.get(base + 2 + j) & 0xf : (b.get(base + 2 + j - 16) >> 4) & 0xf;
                    out[i] = d * (nibble - 8); // x = d·(q − 8)
                }
                case Q4_1 -> {
                    float m = Dtype.f16ToFloat(b.getShort(base + 2));
                    int nibble = j < 16 ? b.get(base + 4 + j) & 0xf : (b.get(base + 4 + j - 16) >> 4) & 0xf;
                    out[i] = d * nibble + m; // x = d·q + m
                }
                default -> throw new IllegalArgumentException();
            }
        }
        return out;
    }

    @Test
    void everyQuantTypeDequantizesByItsDefinition() throws IOException {
        Random rng = new Random(99);
        GgufWriter w = new GgufWriter().putString("general.architecture", "test");
        float[] f32 = new float[N];
        byte[] f16 = new byte[N * 2];
        byte[] bf16 = new byte[N * 2];
        ByteBuffer h = ByteBuffer.wrap(f16).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf = ByteBuffer.wrap(bf16).order(ByteOrder.LITTLE_ENDIAN);
        float[] f16Expected = new float[N];
        float[] bf16Expected = new float[N];
        for (int i = 0; i < N; i++) {
            f32[i] = (float) rng.nextGaussian();
            short hb = (short) rng.nextInt(0x7c00); // any finite non-negative half
            h.putShort(hb);
            f16Expected[i] = Dtype.f16ToFloat(hb);
            short bb = (short) (rng.nextInt(0x7f00) | 0x8000); // negative finite bfloat16
            bf.putShort(bb);
            bf16Expected[i] = Float.intBitsToFloat((bb & 0xffff) << 16);
        }
        w.f32("f32", f32, 32, BLOCKS);
        w.tensor("f16", new long[] {32, BLOCKS}, 1, f16);
        w.tensor("bf16", new long[] {32, BLOCKS}, 30, bf16);
        byte[] q80 = randomBlocks(GgmlType.Q8_0, rng);
        byte[] q40 = randomBlocks(GgmlType.Q4_0, rng);
        byte[] q41 = randomBlocks(GgmlType.Q4_1, rng);
        w.tensor("q8_0", new long[] {32, BLOCKS}, 8, q80);
        w.tensor("q4_0", new long[] {64, BLOCKS / 2}, 2, q40);
        w.tensor("q4_1", new long[] {N}, 3, q41);
        Path file = temp.resolve("types.gguf");
        w.write(file);

        GgufFile g = new GgufFile(file);
        assertArrayEquals(f32, g.readFloats("f32"));
        assertArrayEquals(f16Expected, g.readFloats("f16"));
        assertArrayEquals(bf16Expected, g.readFloats("bf16"));
        assertArrayEquals(expected(GgmlType.Q8_0, q80), g.readFloats("q8_0"));
        assertArrayEquals(expected(GgmlType.Q4_0, q40), g.readFloats("q4_0"));
        assertArrayEquals(expected(GgmlType.Q4_1, q41), g.readFloats("q4_1"));
        assertEquals(GgmlType.Q4_1, g.tensors().get("q4_1").type());
        assertArrayEquals(new long[] {64, BLOCKS / 2}, g.tensors().get("q4_0").dims());
    }

    @Test
    void everyMetadataTypeIsRead() throws IOException {
        GgufWriter w = new GgufWriter()
                .put("u8", Value.of(0, 200)).put("i8", Value.of(1, -7)).put("u16", Value.of(2, 60000))
                .put("i16", Value.of(3, -300)).put("u32", Value.of(4, 4_000_000_000L)).put("i32", Value.of(5, -5))
                .put("f32", Value.of(6, 1.5f)).put("bool", Value.of(7, true)).put("str", Value.of(8, "héllo"))
                .put("u64", Value.of(10, 1L << 40)).put("i64", Value.of(11, -(1L << 40))).put("f64", Value.of(12, 0.1))
                .put("strings", Value.array(8, List.of("a", "b c")))
                .put("ints", Value.array(5, List.of(1, 2, 3)))
                .put("general.alignment", Value.of(4, 64));
        w.f32("t", new float[] {1, 2, 3, 4}, 4);
        Path file = temp.resolve("meta.gguf");
        w.write(file);
        GgufFile g = new GgufFile(file);
        assertEquals(200L, g.integer("u8"));
        assertEquals(-7L, g.integer("i8"));
        assertEquals(60000L, g.integer("u16"));
        assertEquals(-300L, g.integer("i16"));
        assertEquals(4_000_000_000L, g.integer("u32"));
        assertEquals(-5L, g.integer("i32"));
        assertEquals(1.5, g.real("f32", 0));
        assertEquals(true, g.metadata().get("bool"));
        assertEquals("héllo", g.string("str"));
        assertEquals(1L << 40, g.integer("u64"));
        assertEquals(-(1L << 40), g.integer("i64"));
        assertEquals(0.1, g.real("f64", 0));
        assertEquals(List.of("a", "b c"), g.list("strings"));
        assertEquals(List.of(1L, 2L, 3L), g.list("ints"));
        assertEquals(3, g.version());
        // the tensor data starts at the next multiple of general.alignment (64 here) after the header
        assertArrayEquals(new float[] {1, 2, 3, 4}, g.readFloats("t"));
    }

    @Test
    void brokenFilesAreRejectedWithAClearMessage() throws IOException {
        Path notGguf = temp.resolve("x.gguf");
        Files.write(notGguf, new byte[] {'G', 'G', 'M', 'L', 3, 0, 0, 0});
        IOException e = assertThrows(IOException.class, () -> new GgufFile(notGguf));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());

        GgufWriter w = new GgufWriter().putString("general.architecture", "llama");
        w.f32("t", new float[64], 64);
        Path good = temp.resolve("good.gguf");
        w.write(good);
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = temp.resolve("truncated.gguf");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        IOException t = assertThrows(IOException.class, () -> new GgufFile(truncated));
        assertTrue(t.getMessage().contains("past the end"), t.getMessage());

        GgufWriter unknown = new GgufWriter();
        unknown.tensor("q6k", new long[] {256}, 14, new byte[210]);
        Path q6k = temp.resolve("q6k.gguf");
        unknown.write(q6k);
        Exception u = assertThrows(IllegalArgumentException.class, () -> new GgufFile(q6k));
        assertTrue(u.getMessage().contains("not supported"), u.getMessage());
    }
}
