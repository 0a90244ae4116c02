package dev.engram.runtime.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads one .safetensors file: an 8-byte little-endian header length, a JSON header of
 * {name: {dtype, shape, data_offsets}}, then the raw data. The data is memory-mapped and each tensor is converted
 * to float32 on demand, one at a time, or read as F16 in bounded pieces; each map is released as soon as it is read.
 */
public final class SafetensorsReader {
    /** One tensor's place in the file. */
    public record TensorInfo(String name, Dtype dtype, long[] shape, long start, long end) {
        public long elementCount() {
            return Dtype.elementCount(shape);
        }
    }

    private final Path file;
    private final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    private final long dataStart;

    public SafetensorsReader(Path file) throws IOException {
        this.file = file;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            var lengthBuffer = java.nio.ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(lengthBuffer, 0);
            long headerLength = lengthBuffer.flip().getLong();
            if (headerLength <= 0 || headerLength > 100_000_000 || 8 + headerLength > channel.size()) {
                throw new IOException(file + " is not a safetensors file (header length " + headerLength + ")");
            }
            var header = java.nio.ByteBuffer.allocate((int) headerLength);
            channel.read(header, 8);
            this.dataStart = 8 + headerLength;
            JsonNode root = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                JsonNode node = e.getValue();
                long[] shape = new long[node.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = node.get("shape").get(i).asLong();
                }
                TensorInfo info = new TensorInfo(e.getKey(), Dtype.parse(node.get("dtype").asText()), shape,
                        node.get("data_offsets").get(0).asLong(), node.get("data_offsets").get(1).asLong());
                if (info.end() - info.start() != info.elementCount() * info.dtype().bytes
                        || dataStart + info.end() > channel.size()) {
                    throw new IOException(file + ": tensor " + info.name() + " has inconsistent offsets");
                }
                tensors.put(e.getKey(), info);
            }
        }
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException(file + " has no tensor " + name);
        }
        return info;
    }

    /** The tensor's values as float32, in row-major order. */
    public float[] readFloats(String name) throws IOException {
        TensorInfo info = info(name);
        if (info.elementCount() > Integer.MAX_VALUE) {
            throw new IOException("tensor " + name + " has more than 2^31 elements");
        }
        float[] out = new float[(int) info.elementCount()];
        try (MappedRegion region = new MappedRegion(file, dataStart + info.start(), info.end() - info.start())) {
            info.dtype().decode(region.bytes(), out);
        }
        return out;
    }

    /**
     * Elements [from, from + out.remaining() / 2) of an F16 or BF16 tensor as little-endian F16 in {@code out}, or
     * false where a BF16 value lies beyond F16's range. Maps only those elements' bytes, and unmaps them before it
     * returns.
     */
    public boolean readF16(String name, long from, java.nio.ByteBuffer out) throws IOException {
        TensorInfo info = info(name);
        int count = out.remaining() / 2;
        if (info.dtype() == Dtype.F32 || from < 0 || from + count > info.elementCount()) {
            throw new IllegalArgumentException("tensor " + name + " (" + info.dtype() + ", " + info.elementCount()
                    + " elements) has no F16 elements [" + from + ", " + (from + count) + ")");
        }
        long start = dataStart + info.start() + from * 2;
        try (MappedRegion region = new MappedRegion(file, start, 2L * count)) {
            java.nio.ByteBuffer in = region.bytes();
            java.nio.ByteBuffer target = out.slice().order(ByteOrder.LITTLE_ENDIAN);
            if (info.dtype() == Dtype.F16) {
                target.put(in);
                return true;
            }
            for (int i = 0; i < count; i++) {
                int half = Dtype.bf16AsF16(in.getShort());
                if (half < 0) {
                    return false;
                }
                target.putShort((short) half);
            }
            return true;
        }
    }
}
