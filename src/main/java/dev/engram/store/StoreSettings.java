package dev.engram.store;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where a checkpoint store lives and how it opens.
 *
 * @param dir            the checkpoint files' directory (the embedded ledger lives there too)
 * @param jdbcUrl        a shared ledger database, or null for the embedded H2 ledger in {@code dir}
 * @param user           the ledger database's user ("" for none)
 * @param password       its password ("" for none)
 * @param maxConnections the ledger's connection pool size
 */
public record StoreSettings(Path dir, String jdbcUrl, String user, String password, int maxConnections) {
    public StoreSettings {
        dir = dir.toAbsolutePath().normalize();
        jdbcUrl = jdbcUrl == null || jdbcUrl.isBlank() ? null : jdbcUrl;
    }

    /** Whether other servers may share the ledger (and so be mid-commit in the same directory). */
    public boolean shared() {
        return jdbcUrl != null;
    }

    /**
     * How old an interrupted commit's leftovers must be before recovery removes them: at once for a store of its own,
     * after an hour where a replica sharing the store may still be writing them.
     */
    public Duration recoveryMinAge() {
        return shared() ? Duration.ofHours(1) : Duration.ZERO;
    }
}
