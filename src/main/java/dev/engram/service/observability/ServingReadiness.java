package dev.engram.service.observability;

import dev.engram.service.ModelRegistry;
import dev.engram.service.ModelViews;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code /q/health/ready}: up only when the default model is loaded and the checkpoint store answers (its ledger reads
 * the default model's head, and its directory is writable), so that a load balancer sends no call to a replica that
 * would fail it.
 */
@Readiness
@ApplicationScoped
public class ServingReadiness implements HealthCheck {
    private final ModelRegistry models;
    private final ModelViews views;

    public ServingReadiness(ModelRegistry models, ModelViews views) {
        this.models = models;
        this.views = views;
    }

    @Override
    public HealthCheckResponse call() {
        String model = models.defaultModel();
        var response = HealthCheckResponse.named("engram").withData("default_model", model);
        boolean loaded = models.isLoaded(model);
        response.withData("default_model_loaded", loaded);
        try {
            response.withData("default_model_head", views.store().head(model));
            boolean writable = Files.isWritable(views.store().root());
            response.withData("store_writable", writable);
            return response.status(loaded && writable).build();
        } catch (java.sql.SQLException | RuntimeException e) {
            return response.withData("store_error", String.valueOf(e.getMessage())).down().build();
        }
    }
}
