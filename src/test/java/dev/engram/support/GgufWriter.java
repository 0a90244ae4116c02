package dev.engram.support;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes GGUF v3 files for tests: typed metadata, then raw tensor blocks aligned to general.alignment (32). */
public final class GgufWriter {
    /** A metadata value with its GGUF type id (arrays: type 9 with {@code elementType}). */
    public record Value(int type, Object value, int elementType) {
        public static Value of(int type, Object value) {
            return new Value(type, value, -1);
        }

        public static Value array(int elementType, List<?> values) {
            return new Value(9, values, elementType);
        }
    }

    private record Tensor(String name, long[] dims, int type, byte[] data) {
    }

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter put(String key, Value value) {
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, Value.of(8, value));
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, Value.of(4, value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, Value.of(6, value));
    }

    /** A tensor with ggml dims (dims[0] fastest) and its raw bytes in ggml type {@code type}. */
    public GgufWriter tensor(String name, long[] dims, int type, byte[] data) {
        tensors.add(new Tensor(name, dims, type, data));
        return this;
    }

    /** A float32 tensor given row-major with shape [dims[n−1], …, dims[0]]. */
    public GgufWriter f32(String name, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return tensor(name, dims, 0, b.array());
    }

    public void write(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64 << 20).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46554747).putInt(3).putLong(tensors.size()).putLong(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            string(b, e.getKey());
            b.putInt(e.getValue().type());
            value(b, e.getValue().type(), e.getValue().value(), e.getValue().elementType());
        }
        Value configured = metadata.get("general.alignment");
        long alignment = configured == null ? 32 : ((Number) configured.value()).longValue();
        long offset = 0;
        for (Tensor t : tensors) {
            string(b, t.name());
            b.putInt(t.dims().length);
            for (long d : t.dims()) {
                b.putLong(d);
            }
            b.putInt(t.type()).putLong(offset);
            offset += align(t.data().length, alignment);
        }
        while (b.position() % alignment != 0) {
            b.put((byte) 0);
        }
        for (Tensor t : tensors) {
            b.put(t.data());
            for (long pad = t.data().length; pad < align(t.data().length, alignment); pad++) {
                b.put((byte) 0);
            }
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(b.array(), 0, b.position());
        }
    }

    private static long align(long n, long alignment) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private static void string(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }

    private static void value(ByteBuffer b, int type, Object v, int elementType) {
        switch (type) {
            case 0, 1 -> b.put(((Number) v).byteValue());
            case 2, 3 -> b.putShort(((Number) v).shortValue());
            case 4, 5 -> b.putInt(((Number) v).intValue());
            case 6 -> b.putFloat(((Number) v).floatValue());
            case 7 -> b.put((byte) (((Boolean) v) ? 1 : 0));
            case 8 -> string(b, (String) v);
            case 9 -> {
                List<?> list = (List<?>) v;
                b.putInt(elementType).putLong(list.size());
                for (Object item : list) {
                    value(b, elementType, item, -1);
                }
            }
            case 10, 11 -> b.putLong(((Number) v).longValue());
            case 12 -> b.putDouble(((Number) v).doubleValue());
            default -> throw new IllegalArgumentException("type " + type);
        }
    }
}
