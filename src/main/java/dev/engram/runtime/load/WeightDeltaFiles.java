package dev.engram.runtime.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.runtime.ModelConfig;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file form of a {@link WeightDelta}, in a directory: {@code delta.safetensors} holds each entry's original and
 * change vectors (F32, tensors {@code <i>.original} and {@code <i>.change}), and {@code delta.json} is the manifest:
 * format, version, content hash, parameters touched, and each entry's layer, matrix, slice and index. Both files are
 * written atomically (temp file, fsync, rename), the manifest last. Reading rebuilds the delta through its validating
 * builder and checks the recomputed hash against the manifest's.
 */
public final class WeightDeltaFiles {
    public static final String FORMAT = "engram-weight-delta";
    public static final int VERSION = 1;
    public static final String VECTORS = "delta.safetensors";
    public static final String MANIFEST = "delta.json";

    private WeightDeltaFiles() {
    }

    public static void write(WeightDelta delta, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter vectors = new SafetensorsWriter();
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = json.createObjectNode().put("format", FORMAT).put("version", VERSION)
                .put("hash", delta.hash()).put("parameters_touched", delta.parametersTouched());
        ArrayNode entries = manifest.putArray("entries");
        int i = 0;
        for (WeightDelta.Entry e : delta.entries()) {
            long[] shape = {e.length()};
            vectors.put(i + ".original", shape, e.original());
            vectors.put(i + ".change", shape, e.change());
            entries.addObject().put("layer", e.layer()).put("param", e.param().name()).put("slice", e.slice().name())
                    .put("index", e.index()).put("original", i + ".original").put("change", i + ".change");
            i++;
        }
        vectors.write(dir.resolve(VECTORS), Dtype.F32);
        AtomicFiles.writeString(dir.resolve(MANIFEST), json.writerWithDefaultPrettyPrinter().writeValueAsString(manifest));
    }

    /** The delta stored in {@code dir}, checked against {@code config}; IllegalArgumentException if anything is off. */
    public static WeightDelta read(Path dir, ModelConfig config) throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(dir.resolve(MANIFEST).toFile());
        if (!FORMAT.equals(manifest.path("format").asText()) || manifest.path("version").asInt() != VERSION) {
            throw new IllegalArgumentException(MANIFEST + ": not an " + FORMAT + " version " + VERSION + " manifest");
        }
        SafetensorsReader vectors = new SafetensorsReader(dir.resolve(VECTORS));
        WeightDelta.Builder builder = WeightDelta.builder(config);
        for (JsonNode e : manifest.path("entries")) {
            Param param;
            WeightDelta.Slice slice;
            try {
                param = Param.valueOf(e.path("param").asText());
                slice = WeightDelta.Slice.valueOf(e.path("slice").asText());
            } catch (IllegalArgumentException bad) {
                throw new IllegalArgumentException(MANIFEST + ": unknown matrix or slice in " + e);
            }
            builder.add(e.path("layer").asInt(-1), param, slice, e.path("index").asInt(-1),
                    vectors.readFloats(e.path("original").asText()), vectors.readFloats(e.path("change").asText()));
        }
        WeightDelta delta = builder.build();
        if (!delta.hash().equals(manifest.path("hash").asText())) {
            throw new IllegalArgumentException(MANIFEST + ": the vectors hash to " + delta.hash()
                    + ", the manifest says " + manifest.path("hash").asText());
        }
        return delta;
    }
}
