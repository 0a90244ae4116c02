package dev.engram.runtime.load.gguf;

import dev.engram.runtime.load.Dtype;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3): magic "GGUF", version, tensor count, metadata count, the metadata key/values, the
 * tensor infos, then the tensor data, aligned to {@code general.alignment} (default 32). Tensors are read one at a
 * time from memory-mapped data and dequantized to float32.
 */
public final class GgufFile {
    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final int DEFAULT_ALIGNMENT = 32;

    /**
     * One tensor. {@code dims} are ggml's ne[]: dims[0] varies fastest, so a matrix with dims [in, out] is stored
     * row-major as [out, in].
     */
    public record TensorInfo(String name, long[] dims, GgmlType type, long offset) {
        public long elementCount() {
            return Dtype.elementCount(dims);
        }
    }

    private final Path file;
    private final int version;
    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    private final long dataStart;

    public GgufFile(Path file) throws IOException {
        this.file = file;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            ByteBuffer b = channel.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(size, Integer.MAX_VALUE))
                    .order(ByteOrder.LITTLE_ENDIAN);
            try {
                if (b.getInt() != MAGIC) {
                    throw new IOException(file + " is not a GGUF file (bad magic)");
                }
                version = b.getInt();
                if (version != 2 && version != 3) {
                    throw new IOException(file + ": GGUF version " + version + " is not supported (2, 3)");
                }
                long tensorCount = b.getLong();
                long kvCount = b.getLong();
                for (long i = 0; i < kvCount; i++) {
                    String key = string(b);
                    metadata.put(key, value(b, b.getInt()));
                }
                for (long i = 0; i < tensorCount; i++) {
                    String name = string(b);
                    long[] dims = new long[b.getInt()];
                    for (int d = 0; d < dims.length; d++) {
                        dims[d] = b.getLong();
                    }
                    tensors.put(name, new TensorInfo(name, dims, GgmlType.of(b.getInt()), b.getLong()));
                }
            } catch (java.nio.BufferUnderflowException e) {
                throw new IOException(file + " is truncated inside its header", e);
            }
            long alignment = ((Number) metadata.getOrDefault("general.alignment", DEFAULT_ALIGNMENT)).longValue();
            this.dataStart = (b.position() + alignment - 1) / alignment * alignment;
            for (TensorInfo t : tensors.values()) {
                if (dataStart + t.offset() + t.type().bytesFor(t.elementCount()) > size) {
                    throw new IOException(file + ": tensor " + t.name() + " lies past the end of the file");
                }
            }
        }
    }

    private static String string(ByteBuffer b) throws IOException {
        long length = b.getLong();
        if (length < 0 || length > b.remaining()) {
            throw new IOException("GGUF string length " + length + " is out of range");
        }
        byte[] bytes = new byte[(int) length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A metadata value of GGUF type {@code type}: integers as Long, floats as Double, arrays as List. */
    private static Object value(ByteBuffer b, int type) throws IOException {
        return switch (type) {
            case 0 -> (long) (b.get() & 0xff);
            case 1 -> (long) b.get();
            case 2 -> (long) (b.getShort() & 0xffff);
            case 3 -> (long) b.getShort();
            case 4 -> b.getInt() & 0xffffffffL;
            case 5 -> (long) b.getInt();
            case 6 -> Double.parseDouble(Float.toString(b.getFloat())); // 1e-5f reads as 1e-5, not 9.99999974e-6
            case 7 -> b.get() != 0;
            case 8 -> string(b);
            case 9 -> {
                int elementType = b.getInt();
                long count = b.getLong();
                List<Object> list = new ArrayList<>((int) Math.min(count, 1 << 20));
                for (long i = 0; i < count; i++) {
                    list.add(value(b, elementType));
                }
                yield list;
            }
            case 10, 11 -> b.getLong();
            case 12 -> b.getDouble();
            default -> throw new IOException("unknown GGUF metadata type " + type);
        };
    }

    public int version() {
        return version;
    }

    public Map<String, Object> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public Map<String, TensorInfo> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public String string(String key) {
        return (String) required(key);
    }

    public long integer(String key) {
        return ((Number) required(key)).longValue();
    }

    public double real(String key, double fallback) {
        Object v = metadata.get(key);
        return v == null ? fallback : ((Number) v).doubleValue();
    }

    @SuppressWarnings("unchecked")
    public <X> List<X> list(String key) {
        return (List<X>) required(key);
    }

    private Object required(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new IllegalArgumentException(file + " lacks GGUF metadata " + key);
        }
        return v;
    }

    /** A tensor's values as float32 in ggml order (dims[0] fastest). */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new IOException(file + " has no tensor " + name);
        }
        if (t.elementCount() > Integer.MAX_VALUE) {
            throw new IOException("tensor " + name + " has more than 2^31 elements");
        }
        float[] out = new float[(int) t.elementCount()];
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            t.type().dequantize(channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.offset(),
                    t.type().bytesFor(t.elementCount())), out);
        }
        return out;
    }
}
