package dev.engram.runtime.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Writes float32 tensors to a .safetensors file in F32, F16 or BF16. The file appears atomically: it is written to a
 * temporary sibling, forced to disk, then renamed. A tensor may be given as a supplier, called only while the file is
 * written, one tensor at a time: a whole model never sits in the Java heap at once.
 */
public final class SafetensorsWriter {
    /** Values encoded at a time: a tensor's bytes never sit in the heap whole, only its float values. */
    private static final int CHUNK_VALUES = 1 << 20;

    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, Supplier<float[]>> data = new LinkedHashMap<>();

    public SafetensorsWriter put(String name, long[] shape, float[] values) {
        check(name, count(shape), values);
        return put(name, shape, () -> values);
    }

    /** A tensor whose values {@code values} gives when the file is written (its length is checked then). */
    public SafetensorsWriter put(String name, long[] shape, Supplier<float[]> values) {
        shapes.put(name, shape.clone());
        data.put(name, values);
        return this;
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    private static void check(String name, long count, float[] values) {
        if (count != values.length) {
            throw new IllegalArgumentException("tensor " + name + " has " + values.length + " values for shape of "
                    + count);
        }
    }

    /** Splits the tensors, in order, into {@code count} files of about equal size. */
    public java.util.List<SafetensorsWriter> shards(int count) {
        long total = shapes.values().stream().mapToLong(SafetensorsWriter::count).sum();
        java.util.List<SafetensorsWriter> shards = new java.util.ArrayList<>();
        SafetensorsWriter current = new SafetensorsWriter();
        long written = 0;
        for (Map.Entry<String, Supplier<float[]>> e : data.entrySet()) {
            if (!current.data.isEmpty() && written >= total * (shards.size() + 1) / count && shards.size() < count - 1) {
                shards.add(current);
                current = new SafetensorsWriter();
            }
            current.put(e.getKey(), shapes.get(e.getKey()), e.getValue());
            written += count(shapes.get(e.getKey()));
        }
        shards.add(current);
        return shards;
    }

    public java.util.Set<String> names() {
        return data.keySet();
    }

    public void write(Path target, Dtype dtype) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            ObjectNode node = header.putObject(e.getKey());
            node.put("dtype", dtype.name());
            var shape = node.putArray("shape");
            for (long s : e.getValue()) {
                shape.add(s);
            }
            long size = count(e.getValue()) * dtype.bytes;
            node.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING); OutputStream out = java.nio.channels.Channels.newOutputStream(channel)) {
            ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(padded).put(headerBytes);
            while (prefix.hasRemaining()) {
                prefix.put((byte) ' ');
            }
            out.write(prefix.array());
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK_VALUES * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (Map.Entry<String, Supplier<float[]>> e : data.entrySet()) {
                float[] values = e.getValue().get();
                check(e.getKey(), count(shapes.get(e.getKey())), values);
                for (int from = 0; from < values.length; from += CHUNK_VALUES) {
                    encode(values, from, Math.min(values.length, from + CHUNK_VALUES), dtype, chunk.clear());
                    out.write(chunk.array(), 0, chunk.position());
                }
            }
            out.flush();
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Puts values [from, to) into {@code buffer} in {@code dtype}, little-endian. */
    private static void encode(float[] values, int from, int to, Dtype dtype, ByteBuffer buffer) {
        for (int i = from; i < to; i++) {
            switch (dtype) {
                case F32 -> buffer.putFloat(values[i]);
                case F16 -> buffer.putShort(Dtype.floatToF16(values[i]));
                case BF16 -> buffer.putShort(Dtype.floatToBf16(values[i]));
            }
        }
    }
}
