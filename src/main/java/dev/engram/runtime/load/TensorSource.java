package dev.engram.runtime.load;

import java.io.IOException;
import java.util.Set;

/** Named float32 tensors in a checkpoint's own layout, read one at a time. */
public interface TensorSource {
    Set<String> names();

    long[] shape(String name);

    float[] read(String name) throws IOException;

    default boolean has(String name) {
        return names().contains(name);
    }
}
