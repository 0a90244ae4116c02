package dev.engram.runtime.load;

/**
 * The floating-point storage types of checkpoint files. F32 is read as it is; F16 is held as F16 or decoded to F32;
 * BF16 is decoded in Java (DJL's BF16 aborts the JVM) to F32, or to F16 ({@link #bf16AsF16}).
 */
public enum Dtype {
    F32(4), F16(2), BF16(2);

    public final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    public static Dtype parse(String name) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unsupported tensor dtype " + name + " (F32, F16 and BF16 are read)");
        }
    }

    /** Decodes out.length little-endian values of this type from {@code data} into float32. */
    public void decode(java.nio.ByteBuffer data, float[] out) {
        java.nio.ByteBuffer b = data.order(java.nio.ByteOrder.LITTLE_ENDIAN);
        switch (this) {
            case F32 -> b.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = f16ToFloat(b.getShort());
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = bf16ToFloat(b.getShort());
                }
            }
        }
    }

    /** The number of elements of a tensor with these dimensions. */
    public static long elementCount(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** bfloat16 → float: the top 16 bits of an IEEE float. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float → bfloat16, rounding to nearest even (NaN stays NaN). */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /**
     * The F16 bits (0..65535) of a BF16 value, or −1 where F16 has none: beyond its largest finite value, 65504. Exact
     * wherever F16 has normal numbers (|x| ≥ 2^−14: BF16's 8 significant bits fit in F16's 11); below that, rounded
     * to F16's subnormal step 2^−24, an absolute error of at most 2^−25. Infinities and NaN stay what they are.
     */
    public static int bf16AsF16(short bf16) {
        float value = bf16ToFloat(bf16);
        if (Float.isFinite(value) && Math.abs(value) > 65504f) {
            return -1;
        }
        return floatToF16(value) & 0xffff;
    }

    /** IEEE half → float, subnormals and infinities included. */
    public static float f16ToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // subnormal: mantissa · 2^−24
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** float → IEEE half, rounding to nearest even; overflow gives infinity. */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        float abs = Math.abs(value);
        if (Float.isNaN(value)) {
            return (short) (sign | 0x7e00);
        }
        if (abs >= 65520f) {
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x1p-14f) {
            // subnormal half: round abs / 2^−24 to the nearest integer (ties to even)
            return (short) (sign | (int) Math.rint(abs * 0x1p24f));
        }
        int exponent = ((bits >>> 23) & 0xff) - 112;
        int mantissa = bits & 0x7fffff;
        int rounded = (exponent << 10 | (mantissa >>> 13)) + roundBit(mantissa);
        return (short) (sign | rounded);
    }

    private static int roundBit(int mantissa) {
        int dropped = mantissa & 0x1fff;
        int halfway = 0x1000;
        if (dropped > halfway) {
            return 1;
        }
        return dropped == halfway ? (mantissa >>> 13) & 1 : 0;
    }
}
