package dev.engram.runtime.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The tensors of an HF directory: {@code model.safetensors}, or the shards that {@code model.safetensors.index.json} names. */
public final class SafetensorsCheckpoint implements TensorSource {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Map<String, SafetensorsReader> owner = new LinkedHashMap<>();

    public SafetensorsCheckpoint(Path dir) throws IOException {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            JsonNode weightMap = new ObjectMapper().readTree(index.toFile()).path("weight_map");
            Map<String, SafetensorsReader> shards = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                SafetensorsReader shard = shards.get(e.getValue().asText());
                if (shard == null) {
                    shard = new SafetensorsReader(dir.resolve(e.getValue().asText()));
                    shards.put(e.getValue().asText(), shard);
                }
                if (!shard.names().contains(e.getKey())) {
                    throw new IOException(INDEX_FILE + " places " + e.getKey() + " in " + e.getValue().asText()
                            + ", which lacks it");
                }
                owner.put(e.getKey(), shard);
            }
        } else if (Files.exists(dir.resolve(SINGLE_FILE))) {
            SafetensorsReader single = new SafetensorsReader(dir.resolve(SINGLE_FILE));
            for (String name : single.names()) {
                owner.put(name, single);
            }
        } else {
            throw new IOException(dir + " has neither " + SINGLE_FILE + " nor " + INDEX_FILE);
        }
    }

    @Override
    public Set<String> names() {
        return owner.keySet();
    }

    @Override
    public long[] shape(String name) {
        return reader(name).info(name).shape();
    }

    @Override
    public float[] read(String name) throws IOException {
        return reader(name).readFloats(name);
    }

    @Override
    public Dtype dtype(String name) {
        return reader(name).info(name).dtype();
    }

    @Override
    public boolean readF16(String name, long from, java.nio.ByteBuffer out) throws IOException {
        return reader(name).readF16(name, from, out);
    }

    private SafetensorsReader reader(String name) {
        SafetensorsReader r = owner.get(name);
        if (r == null) {
            throw new IllegalArgumentException("checkpoint has no tensor " + name);
        }
        return r;
    }
}
