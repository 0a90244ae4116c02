package dev.engram.runtime.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Half-precision conversions checked against values derived by hand from the IEEE 754 and bfloat16 formats. */
class DtypeTest {
    @Test
    void f16KnownBitPatterns() {
        assertEquals(1.0f, Dtype.f16ToFloat((short) 0x3c00));
        assertEquals(-2.0f, Dtype.f16ToFloat((short) 0xc000));
        assertEquals(65504f, Dtype.f16ToFloat((short) 0x7bff)); // largest normal
        assertEquals(0x1p-24f, Dtype.f16ToFloat((short) 0x0001)); // smallest subnormal
        assertEquals(0x1p-14f, Dtype.f16ToFloat((short) 0x0400)); // smallest normal
        assertEquals(Float.POSITIVE_INFINITY, Dtype.f16ToFloat((short) 0x7c00));
        assertTrue(Float.isNaN(Dtype.f16ToFloat((short) 0x7e00)));
        assertEquals(0.333251953125f, Dtype.f16ToFloat((short) 0x3555));
    }

    @Test
    void f16EncodeRoundsToNearestEvenAndRoundTripsEveryHalf() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Dtype.f16ToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, Dtype.floatToF16(f), "half 0x" + Integer.toHexString(bits));
            }
        }
        // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa, 1
        assertEquals((short) 0x3c00, Dtype.floatToF16(1f + 0x1p-11f));
        assertEquals((short) 0x3c02, Dtype.floatToF16(1f + 3 * 0x1p-11f));
        assertEquals((short) 0x7c00, Dtype.floatToF16(1e6f));
    }

    @Test
    void bf16IsTheTopHalfOfAFloat() {
        assertEquals(1.0f, Dtype.bf16ToFloat((short) 0x3f80));
        assertEquals(-0.5f, Dtype.bf16ToFloat((short) 0xbf00));
        assertEquals(3.140625f, Dtype.bf16ToFloat((short) 0x4049));
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Dtype.bf16ToFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, Dtype.floatToBf16(f));
            }
        }
        assertEquals((short) 0x3f80, Dtype.floatToBf16(1f + 0x1p-8f)); // tie → even
        assertEquals((short) 0x3f82, Dtype.floatToBf16(1f + 3 * 0x1p-8f));
    }
}
