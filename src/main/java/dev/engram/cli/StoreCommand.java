package dev.engram.cli;

import dev.engram.grpc.v1.BackupStoreRequest;
import dev.engram.grpc.v1.BackupStoreResponse;
import dev.engram.grpc.v1.StoreServiceGrpc;
import dev.engram.grpc.v1.VerifyStoreRequest;
import dev.engram.grpc.v1.VerifyStoreResponse;
import dev.engram.store.CheckpointStore;
import dev.engram.store.LedgerDatabase;
import dev.engram.store.LedgerUrls;
import dev.engram.store.StoreBackup;
import dev.engram.store.StoreVerification;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code engram store verify | backup | restore}: the store's check and backup through the running server (admin
 * scope), and the restore of a backup into an empty store, offline (no server may be running on that store).
 */
@Command(name = "store", description = "Check, back up and restore the checkpoint store.",
        subcommands = {StoreCommand.Verify.class, StoreCommand.Backup.class, StoreCommand.Restore.class})
final class StoreCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A store check's outcome, one line, then each finding (problem, path, detail) on its own. */
    static void printCheck(PrintWriter out, boolean clean, int checkpoints, int heads, List<List<String>> findings) {
        out.printf("%s: %d checkpoints, %d heads, %d finding(s)%n", clean ? "clean" : "DAMAGED", checkpoints, heads,
                findings.size());
        findings.forEach(f -> out.printf("  %-13s %s: %s%n", f.get(0), f.get(1), f.get(2)));
    }

    /** VerifyStore; exit 8 when a finding fails. */
    @Command(name = "verify", description = "Check every checkpoint's files against the ledger and look for files no "
            + "row names (exit 8 when something is wrong).")
    static final class Verify extends ClientCommand {
        @Option(names = "--grace", defaultValue = "600", description = "seconds within which an unnamed or staged "
                + "directory may be a commit in flight: reported, not failing (default ${DEFAULT-VALUE})")
        int graceSeconds;

        @Override
        int run(ManagedChannel channel, PrintWriter out) {
            VerifyStoreResponse r = server.prepare(StoreServiceGrpc.newBlockingStub(channel)).verifyStore(
                    VerifyStoreRequest.newBuilder().setGraceSeconds(graceSeconds).build());
            if (server.json) {
                ServerOptions.printJson(out, r, false);
            } else {
                printCheck(out, r.getClean(), r.getCheckpoints(), r.getHeads(), r.getFindingsList().stream()
                        .map(f -> List.of(f.getProblem(), f.getPath(), f.getDetail())).toList());
            }
            return r.getClean() ? EngramCli.OK : EngramCli.DAMAGED;
        }
    }

    /** BackupStore. */
    @Command(name = "backup", description = "Back the store up (ledger and checkpoint files) into the server's backup "
            + "directory while it serves.")
    static final class Backup extends ClientCommand {
        @Option(names = "--name", defaultValue = "", description = "the backup's directory name (default "
                + "backup-<UTC time>)")
        String name;

        @Override
        int run(ManagedChannel channel, PrintWriter out) {
            BackupStoreResponse r = server.prepare(StoreServiceGrpc.newBlockingStub(channel)).backupStore(
                    BackupStoreRequest.newBuilder().setName(name).build());
            if (server.json) {
                ServerOptions.printJson(out, r, false);
            } else {
                out.printf("backup %s: %d checkpoints, %d heads, %d files, %d bytes%n", r.getDirectory(),
                        r.getCheckpoints(), r.getHeads(), r.getFiles(), r.getBytes());
            }
            return EngramCli.OK;
        }
    }

    /** The restore, straight into the store's directory and ledger; then the restored store is verified. */
    @Command(name = "restore", description = "Restore a backup into an empty store (offline: no server on it), then "
            + "verify it (exit 8 if the result does not verify).")
    static final class Restore implements Callable<Integer> {
        @Option(names = "--from", required = true, description = "the backup's directory")
        Path from;
        @Option(names = "--store", defaultValue = "${env:ENGRAM_STORE_DIR:-models/store}",
                description = "the store directory to restore into (env ENGRAM_STORE_DIR; default ${DEFAULT-VALUE})")
        Path store;
        @Option(names = "--jdbc-url", defaultValue = "${env:ENGRAM_STORE_JDBC_URL}", description = "a PostgreSQL "
                + "ledger (env ENGRAM_STORE_JDBC_URL; default: the embedded ledger in the store directory)")
        String jdbcUrl;
        @Option(names = "--jdbc-user", defaultValue = "${env:ENGRAM_STORE_JDBC_USER}",
                description = "the PostgreSQL ledger's user (env ENGRAM_STORE_JDBC_USER)")
        String jdbcUser;
        @Option(names = "--jdbc-password", defaultValue = "${env:ENGRAM_STORE_JDBC_PASSWORD}",
                description = "its password (env ENGRAM_STORE_JDBC_PASSWORD)")
        String jdbcPassword;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (!Files.isDirectory(from)) {
                throw new IllegalArgumentException("--from: " + from + " is not a directory");
            }
            Files.createDirectories(store);
            String url = jdbcUrl == null || jdbcUrl.isBlank() ? LedgerUrls.h2(store) : jdbcUrl;
            try (CheckpointStore target = new CheckpointStore(store, LedgerDatabase.open(url,
                    jdbcUser == null ? "" : jdbcUser, jdbcPassword == null ? "" : jdbcPassword, 2))) {
                StoreBackup.Summary s = target.restore(from);
                out.printf("restored %d checkpoints, %d heads, %d files into %s (ledger %s)%n", s.checkpoints(),
                        s.heads(), s.files(), store, target.describeLedger());
                StoreVerification.Report check = target.verify(Duration.ZERO);
                printCheck(out, check.clean(), check.checkpoints(), check.heads(), check.findings().stream()
                        .map(f -> List.of(f.problem().name(), f.path(), f.detail())).toList());
                out.flush();
                return check.clean() ? EngramCli.OK : EngramCli.DAMAGED;
            }
        }
    }
}
