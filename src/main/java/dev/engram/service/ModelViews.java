package dev.engram.service;

import dev.engram.grpc.v1.ModelRef;
import dev.engram.runtime.Model;
import dev.engram.store.CheckpointNotFoundException;
import dev.engram.store.CheckpointStore;
import io.grpc.Status;
import dev.engram.store.ResolvedView;
import dev.engram.store.StoreSettings;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.sql.SQLException;
import org.jboss.logging.Logger;

/**
 * The model views requests read: a configured model at its head, at "base" or at a named checkpoint. Opens the
 * checkpoint store at start-up. A view is the base model plus the composed deltas of the checkpoint's lineage; building
 * one copies no weights.
 */
@Startup
@ApplicationScoped
public class ModelViews {
    private static final Logger LOG = Logger.getLogger(ModelViews.class);
    private final ModelRegistry registry;
    private final EngramConfig config;
    private CheckpointStore store;

    public ModelViews(ModelRegistry registry, EngramConfig config) {
        this.registry = registry;
        this.config = config;
    }

    /** A model view and the checkpoint it is: an id, or {@link CheckpointStore#BASE}. */
    public record View(Model model, String checkpoint) {
        public ModelRef ref() {
            return ModelRef.newBuilder().setName(model.name()).setCheckpoint(checkpoint).build();
        }
    }

    @PostConstruct
    void open() {
        StoreSettings settings = new StoreSettings(Path.of(config.store().dir()), config.store().jdbcUrl().orElse(null),
                config.store().jdbcUser().orElse(""), config.store().jdbcPassword().orElse(""),
                config.store().maxConnections());
        // the key-value methods' key statistics (C = E[k kᵀ] per base model and layer) are kept beside the checkpoints
        dev.engram.editing.KeyStatistics.useDirectory(settings.dir().resolve("statistics"));
        try {
            store = CheckpointStore.open(settings, removed -> LOG.warnf("removed %s, left by an interrupted commit",
                    settings.dir().relativize(removed)));
        } catch (SQLException | java.io.IOException e) {
            throw new IllegalStateException("cannot open the checkpoint store at " + settings.dir() + ": "
                    + e.getMessage(), e);
        }
        LOG.infof("checkpoint store %s, ledger %s", settings.dir(), store.describeLedger());
    }

    @PreDestroy
    void close() {
        if (store != null) {
            store.close();
        }
    }

    public CheckpointStore store() {
        return store;
    }

    public View resolve(ModelRef ref) {
        return resolve(ref.getName(), ref.getCheckpoint(), "model.checkpoint");
    }

    /**
     * The view of {@code modelName} (default when empty) at {@code checkpoint} (empty: the head); errors name
     * {@code field}.
     */
    public View resolve(String modelName, String checkpoint, String field) {
        Model base = registry.get(modelName);
        ResolvedView view = storeCall(field, () -> store.view(base, checkpoint));
        return new View(view.model(), view.checkpoint());
    }

    /**
     * "" → the model's head; "base" → base; otherwise the full id of a checkpoint of the model: NOT_FOUND when it
     * names none, INVALID_ARGUMENT when it is ambiguous or another model's, each message starting with {@code field}.
     */
    public String checkpointId(String model, String ref, String field) {
        return storeCall(field, () -> store.resolveId(model, ref));
    }

    /** A store read whose reference errors name {@code field}: NOT_FOUND, or INVALID_ARGUMENT. */
    private static <T> T storeCall(String field, GrpcErrors.StoreCall<T> call) {
        return GrpcErrors.store(() -> {
            try {
                return call.get();
            } catch (CheckpointNotFoundException e) {
                throw Status.NOT_FOUND.withDescription(field + ": " + e.getMessage()).asRuntimeException();
            } catch (IllegalArgumentException e) {
                throw GrpcErrors.invalid(field, e.getMessage());
            }
        });
    }

    /** The name of the model a request names (the default when empty), without loading it; NOT_FOUND if unknown. */
    public String modelName(String name) {
        return registry.nameOf(name);
    }

    public Model base(String name) {
        return registry.get(name);
    }
}
