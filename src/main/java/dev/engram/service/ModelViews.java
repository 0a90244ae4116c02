package dev.engram.service;

import dev.engram.grpc.v1.ModelRef;
import dev.engram.runtime.Model;
import dev.engram.store.CheckpointNotFoundException;
import dev.engram.store.CheckpointStore;
import io.grpc.Status;
import dev.engram.store.LedgerDatabase;
import dev.engram.store.LedgerUrls;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
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
        Path dir = Path.of(config.store().dir()).toAbsolutePath().normalize();
        String url = config.store().jdbcUrl().filter(u -> !u.isBlank()).orElse(LedgerUrls.h2(dir));
        try {
            Files.createDirectories(dir);
            LedgerDatabase db = LedgerDatabase.open(url, config.store().jdbcUser().orElse(""),
                    config.store().jdbcPassword().orElse(""), config.store().maxConnections());
            store = new CheckpointStore(dir, db);
            // a store of its own (embedded ledger) has no other writer; a shared one may have a replica mid-commit
            java.time.Duration minAge = config.store().jdbcUrl().filter(u -> !u.isBlank()).isPresent()
                    ? java.time.Duration.ofHours(1) : java.time.Duration.ZERO;
            for (Path removed : store.recover(minAge)) {
                LOG.warnf("removed %s, left by an interrupted commit", dir.relativize(removed));
            }
        } catch (SQLException | java.io.IOException e) {
            throw new IllegalStateException("cannot open the checkpoint store at " + dir + ": " + e.getMessage(), e);
        }
        LOG.infof("checkpoint store %s, ledger %s", dir, store.describeLedger());
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
        String id = checkpointId(base.name(), checkpoint, field);
        if (CheckpointStore.BASE.equals(id)) {
            return new View(base, id);
        }
        return new View(GrpcErrors.store(() -> base.edited(store.composedDelta(base.name(), id, base.config()))), id);
    }

    /**
     * "" → the model's head; "base" → base; otherwise the full id of a checkpoint of the model: NOT_FOUND when it
     * names none, INVALID_ARGUMENT when it is ambiguous or another model's, each message starting with {@code field}.
     */
    public String checkpointId(String model, String ref, String field) {
        return GrpcErrors.store(() -> {
            if (ref == null || ref.isEmpty()) {
                return store.head(model);
            }
            if (CheckpointStore.BASE.equals(ref)) {
                return ref;
            }
            try {
                return store.require(model, ref).id();
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
