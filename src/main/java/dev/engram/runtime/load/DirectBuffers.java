package dev.engram.runtime.load;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/**
 * Frees a direct or mapped buffer now instead of whenever the collector finds it: a loader that left each tensor's
 * buffers to the collector holds them all until the next GC, twice the model's size on a small heap (LoaderMemoryTest).
 */
final class DirectBuffers {
    private static final sun.misc.Unsafe UNSAFE = unsafe();

    private DirectBuffers() {
    }

    /** Releases {@code buffer}'s memory; it must not be used, or be reachable from anything still used, afterwards. */
    static void free(ByteBuffer buffer) {
        UNSAFE.invokeCleaner(buffer);
    }

    private static sun.misc.Unsafe unsafe() {
        try {
            Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (sun.misc.Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
