package dev.engram.runtime.load.gguf;

import dev.engram.runtime.load.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ggml tensor types Engram dequantizes, with their block layouts (ggml-common.h). Every quantized type stores
 * blocks of 32 consecutive values of a row.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** Q4_0 block: f16 scale d, 16 bytes of 4-bit q; x_j = d·(q_j − 8). */
    Q4_0(2, 32, 2 + 16),
    /** Q4_1 block: f16 scale d, f16 minimum m, 16 bytes of 4-bit q; x_j = d·q_j + m. */
    Q4_1(3, 32, 2 + 2 + 16),
    /** Q8_0 block: f16 scale d, 32 int8 q; x_j = d·q_j. */
    Q8_0(8, 32, 2 + 32),
    BF16(30, 1, 2);

    public static final int QK = 32;

    public final int id;
    public final int blockSize;
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public static GgmlType of(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        throw new IllegalArgumentException("ggml tensor type " + id + " is not supported (F32, F16, BF16, Q4_0, Q4_1, Q8_0)");
    }

    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " needs a multiple of " + blockSize + " elements, got " + elements);
        }
        return elements / blockSize * blockBytes;
    }

    /** Dequantizes {@code out.length} values from {@code data} (little-endian, positioned at the tensor start). */
    public void dequantize(ByteBuffer data, float[] out) {
        ByteBuffer b = data.order(ByteOrder.LITTLE_ENDIAN);
        switch (this) {
            case F32 -> Dtype.F32.decode(b, out);
            case F16 -> Dtype.F16.decode(b, out);
            case BF16 -> Dtype.BF16.decode(b, out);
            case Q8_0 -> {
                for (int block = 0; block < out.length; block += QK) {
                    float d = Dtype.f16ToFloat(b.getShort());
                    for (int j = 0; j < QK; j++) {
                        out[block + j] = d * b.get();
                    }
                }
            }
            case Q4_0 -> {
                for (int block = 0; block < out.length; block += QK) {
                    float d = Dtype.f16ToFloat(b.getShort());
                    // byte j holds value j in its low nibble and value j + 16 in its high nibble
                    for (int j = 0; j < QK / 2; j++) {
                        int q = b.get() & 0xff;
                        out[block + j] = d * ((q & 0x0f) - 8);
                        out[block + j + QK / 2] = d * ((q >>> 4) - 8);
                    }
                }
            }
            case Q4_1 -> {
                for (int block = 0; block < out.length; block += QK) {
                    float d = Dtype.f16ToFloat(b.getShort());
                    float m = Dtype.f16ToFloat(b.getShort());
                    for (int j = 0; j < QK / 2; j++) {
                        int q = b.get() & 0xff;
                        out[block + j] = d * (q & 0x0f) + m;
                        out[block + j + QK / 2] = d * (q >>> 4) + m;
                    }
                }
            }
        }
    }
}
