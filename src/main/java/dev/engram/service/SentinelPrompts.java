package dev.engram.service;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each model's sentinel prompts: unrelated prompts whose top-1 token no edit may change, read from
 * {@code <sentinels-dir>/<model>.txt} (one prompt a line; blank lines and lines starting with # are skipped). A model
 * without a file has none.
 */
@ApplicationScoped
public class SentinelPrompts {
    private final EngramConfig config;
    private final Map<String, List<String>> byModel = new ConcurrentHashMap<>();

    public SentinelPrompts(EngramConfig config) {
        this.config = config;
    }

    public List<String> of(String model) {
        return byModel.computeIfAbsent(model, this::read);
    }

    private List<String> read(String model) {
        EngramConfig.ModelSource source = config.models().get(model);
        String owner = source == null ? model : source.sentinels().orElse(model);
        Path file = Path.of(config.editing().sentinelsDir(), owner + ".txt");
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            return Files.readAllLines(file).stream().filter(l -> !l.isBlank() && !l.startsWith("#"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
