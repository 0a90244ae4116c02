package dev.engram.service;

import dev.engram.grpc.v1.BackupStoreRequest;
import dev.engram.grpc.v1.BackupStoreResponse;
import dev.engram.grpc.v1.MutinyStoreServiceGrpc;
import dev.engram.grpc.v1.StoreFinding;
import dev.engram.grpc.v1.VerifyStoreRequest;
import dev.engram.grpc.v1.VerifyStoreResponse;
import dev.engram.store.StoreBackup;
import dev.engram.store.StoreVerification;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.jboss.logging.Logger;

/** VerifyStore and BackupStore on the store this server runs on (admin scope, as every unlisted method). */
@GrpcService
public class StoreGrpcService extends MutinyStoreServiceGrpc.StoreServiceImplBase {
    private static final Logger LOG = Logger.getLogger(StoreGrpcService.class);
    private static final int DEFAULT_GRACE_SECONDS = 600;
    private static final DateTimeFormatter BACKUP_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")
            .withZone(ZoneOffset.UTC);
    private final ModelViews views;
    private final EngramConfig config;

    public StoreGrpcService(ModelViews views, EngramConfig config) {
        this.views = views;
        this.config = config;
    }

    @Override
    public io.grpc.ServerServiceDefinition bindService() {
        return RequestDecoding.guarded(super.bindService());
    }

    @Override
    @Blocking
    public Uni<VerifyStoreResponse> verifyStore(VerifyStoreRequest request) {
        return Uni.createFrom().item(() -> GrpcErrors.call(() -> {
            if (request.getGraceSeconds() < 0) {
                throw GrpcErrors.invalid("grace_seconds", "must not be negative");
            }
            int grace = request.getGraceSeconds() == 0 ? DEFAULT_GRACE_SECONDS : request.getGraceSeconds();
            StoreVerification.Report report = GrpcErrors.store(
                    () -> views.store().verify(Duration.ofSeconds(grace)));
            VerifyStoreResponse.Builder out = VerifyStoreResponse.newBuilder().setClean(report.clean())
                    .setCheckpoints(report.checkpoints()).setHeads(report.heads());
            for (StoreVerification.Finding f : report.findings()) {
                out.addFindings(StoreFinding.newBuilder().setProblem(f.problem().name()).setPath(f.path())
                        .setDetail(f.detail()).setFails(f.fails()));
            }
            return out.build();
        }));
    }

    @Override
    @Blocking
    public Uni<BackupStoreResponse> backupStore(BackupStoreRequest request) {
        return Uni.createFrom().item(() -> GrpcErrors.call(() -> {
            String name = request.getName().isEmpty() ? "backup-" + BACKUP_TIME.format(java.time.Instant.now())
                    : request.getName();
            Path target = NamedDirectory.resolve(config.store().backupDir(), name, "a backup");
            StoreBackup.Summary summary = GrpcErrors.store(() -> {
                try {
                    return views.store().backup(target);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    throw Status.ALREADY_EXISTS.withDescription("name: a backup called '" + name
                            + "' was made meanwhile; choose another name").asRuntimeException();
                } catch (StoreBackup.DamagedFiles e) {
                    throw Status.DATA_LOSS.withDescription("store: " + e.getMessage()).asRuntimeException();
                }
            });
            LOG.infof("backup %s: %d checkpoints, %d files, %d bytes", name, summary.checkpoints(), summary.files(),
                    summary.bytes());
            return BackupStoreResponse.newBuilder().setDirectory(name).setCheckpoints(summary.checkpoints())
                    .setHeads(summary.heads()).setFiles(summary.files()).setBytes(summary.bytes()).build();
        }));
    }
}
