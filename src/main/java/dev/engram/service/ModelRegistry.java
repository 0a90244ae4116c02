package dev.engram.service;

import ai.djl.ndarray.NDManager;
import dev.engram.runtime.ComputeDevice;
import dev.engram.runtime.Model;
import dev.engram.runtime.load.ModelLoader;
import io.grpc.Status;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/** The configured models; the default one is loaded at start-up, the others on first use. */
@Startup
@ApplicationScoped
public class ModelRegistry {
    private static final Logger LOG = Logger.getLogger(ModelRegistry.class);

    static {
        // DJL must never try the network: libtorch comes from the pytorch-native-cpu jar.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    private final EngramConfig config;
    private final Map<String, Model> loaded = new ConcurrentHashMap<>();
    private NDManager root;

    public ModelRegistry(EngramConfig config) {
        this.config = config;
    }

    @PostConstruct
    void start() {
        ai.djl.Device device = ComputeDevice.select(config.device());
        LOG.infof("tensors on %s (engram.device)", device);
        root = NDManager.newBaseManager(device);
        ai.djl.pytorch.jni.JniUtils.setNumThreads(config.torchThreads());
        LOG.infof("libtorch: %d intra-op thread(s) per call (engram.torch-threads)", config.torchThreads());
        if (!config.models().containsKey(config.defaultModel())) {
            throw new IllegalStateException("engram.default-model '" + config.defaultModel()
                    + "' has no engram.models." + config.defaultModel() + ".path");
        }
        Model model = get(config.defaultModel());
        LOG.infof("default model %s loaded: %s", model.name(), model.config());
    }

    @PreDestroy
    void stop() {
        loaded.values().forEach(Model::close);
        root.close();
    }

    /** The model called {@code name} (the default when empty), loading it if needed; NOT_FOUND if unknown. */
    public Model get(String name) {
        String key = nameOf(name);
        return loaded.computeIfAbsent(key, k -> load(k, config.models().get(k)));
    }

    /** The configured name a request means (the default when empty), without loading it; NOT_FOUND if unknown. */
    public String nameOf(String name) {
        String key = name == null || name.isBlank() ? config.defaultModel() : name;
        if (!config.models().containsKey(key)) {
            throw Status.NOT_FOUND.withDescription("model: unknown model '" + key + "'; known models: "
                    + new TreeMap<>(config.models()).keySet()).asRuntimeException();
        }
        return key;
    }

    private Model load(String name, EngramConfig.ModelSource source) {
        Path path = Path.of(source.path()).toAbsolutePath().normalize();
        if (!Files.exists(path)) {
            throw Status.FAILED_PRECONDITION.withDescription("model: the files of '" + name + "' are missing at "
                    + path + "; fetch them (models/README.md: `bash models/fetch-smollm2.sh` for smollm2) or set "
                    + "engram.models." + name + ".path").asRuntimeException();
        }
        try {
            return ModelLoader.load(name, path, root, source.storage());
        } catch (IOException | RuntimeException e) {
            throw Status.FAILED_PRECONDITION.withDescription("model: cannot load '" + name + "' from " + path
                    + ": " + e.getMessage()).withCause(e).asRuntimeException();
        }
    }

    public boolean isLoaded(String name) {
        return loaded.containsKey(name);
    }

    public String defaultModel() {
        return config.defaultModel();
    }

    public Map<String, EngramConfig.ModelSource> sources() {
        return new TreeMap<>(config.models());
    }
}
