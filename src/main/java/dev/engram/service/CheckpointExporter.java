package dev.engram.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.grpc.v1.ExportCheckpointRequest;
import dev.engram.grpc.v1.ExportCheckpointResponse;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.AtomicFiles;
import dev.engram.runtime.load.Dtype;
import dev.engram.runtime.load.HfCheckpoint;
import dev.engram.runtime.load.HfTokenizerFiles;
import dev.engram.runtime.load.SafetensorsWriter;
import dev.engram.store.CheckpointStore;
import dev.engram.inference.Predictions;
import dev.engram.store.PublishedDirectory;
import io.grpc.Status;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * ExportCheckpoint: a checkpoint's effective weights in the Hugging Face layout (config.json, model.safetensors in F32,
 * tokenizer.json, tokenizer_config.json, generation_config.json), plus {@code engram-reference/}: a few prompts, their
 * token ids and the logits Engram computes for them, which {@code scripts/check_hf_export.py} compares with what
 * {@code transformers} computes. Written in a staging directory and renamed into place, so a reader never sees half an
 * export; an existing export is never overwritten. After each export the retention policy ({@link ExportRetention})
 * removes the earlier exports it no longer keeps.
 */
@ApplicationScoped
public class CheckpointExporter {
    static final String REFERENCE_DIR = "engram-reference";
    private static final int REFERENCE_SENTINELS = 4;

    private final ModelViews views;
    private final EngramConfig config;
    private final SentinelPrompts sentinels;
    private final ExportRetention retention;

    public CheckpointExporter(ModelViews views, EngramConfig config, SentinelPrompts sentinels) {
        this.views = views;
        this.config = config;
        this.sentinels = sentinels;
        this.retention = new ExportRetention(config.store().exportKeepLast(), config.store().exportMaxAge());
    }

    public ExportCheckpointResponse export(ExportCheckpointRequest r) {
        ModelViews.View view = views.resolve(r.getModel());
        Model model = view.model();
        String name = r.getName().isEmpty()
                ? model.name() + "-" + (CheckpointStore.BASE.equals(view.checkpoint()) ? "base"
                        : view.checkpoint().substring(0, 12))
                : r.getName();
        Path target = NamedDirectory.resolve(config.store().exportDir(), name, "an export");
        Path root = target.getParent();
        Path source = Path.of(config.models().get(model.name()).path()).toAbsolutePath().normalize();
        try {
            PublishedDirectory.publish(target, staging -> {
                HfTokenizerFiles.write(source, model.config(), staging); // first: refuses sources without an HF tokenizer
                HfCheckpoint.save(model, staging, Dtype.F32, 1);
                writeReference(model, view, staging.resolve(REFERENCE_DIR));
            });
        } catch (UnsupportedOperationException e) {
            throw Status.FAILED_PRECONDITION.withDescription("model: " + e.getMessage()).asRuntimeException();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("export: " + e.getMessage()).withCause(e).asRuntimeException();
        }
        ExportCheckpointResponse.Builder out = ExportCheckpointResponse.newBuilder().setModel(view.ref())
                .setDirectory(target.getFileName().toString());
        try (Stream<Path> files = Files.walk(target)) {
            long bytes = 0;
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                out.addFiles(target.relativize(f).toString());
                bytes += Files.size(f);
            }
            out.setBytes(bytes);
            out.addAllRemoved(retention.prune(root, target, java.time.Instant.now()));
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("export: " + e.getMessage()).asRuntimeException();
        }
        return out.build();
    }

    /** reference.json (prompts, token ids) and logits.safetensors (tensor i: prompt i's logits, [T, V]). */
    private void writeReference(Model model, ModelViews.View view, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> prompts = new ArrayList<>();
        if (!CheckpointStore.BASE.equals(view.checkpoint())) {
            CommittedEdits.requests(GrpcErrors.store(() -> views.store().require(model.name(), view.checkpoint())))
                    .forEach(request -> prompts.add(EditRequests.promptText(request)));
        }
        sentinels.of(model.name()).stream().limit(REFERENCE_SENTINELS).forEach(prompts::add);
        ObjectMapper json = new ObjectMapper();
        ObjectNode reference = json.createObjectNode().put("model", model.name())
                .put("checkpoint", view.checkpoint()).put("tolerance", 1e-4);
        ArrayNode entries = reference.putArray("prompts");
        SafetensorsWriter logits = new SafetensorsWriter();
        for (int i = 0; i < prompts.size(); i++) {
            int[] tokens = model.tokenizer().encodePrompt(prompts.get(i));
            ObjectNode e = entries.addObject().put("text", prompts.get(i)).put("logits", String.valueOf(i));
            ArrayNode ids = e.putArray("token_ids");
            for (int t : tokens) {
                ids.add(t);
            }
            logits.put(String.valueOf(i), new long[] {tokens.length, model.config().vocabSize()},
                    Predictions.logitsEveryPosition(model, tokens));
        }
        logits.write(dir.resolve("logits.safetensors"), Dtype.F32);
        AtomicFiles.writeString(dir.resolve("reference.json"),
                json.writerWithDefaultPrettyPrinter().writeValueAsString(reference));
    }
}
