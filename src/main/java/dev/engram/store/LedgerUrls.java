package dev.engram.store;

import java.nio.file.Path;

/** Default ledger locations. */
public final class LedgerUrls {
    private LedgerUrls() {
    }

    /**
     * The embedded ledger beside the store's files: {@code <store>/ledger.mv.db}, H2 in PostgreSQL mode so that one set
     * of migrations serves both databases. The file is held by one server process at a time; replicas that share a
     * store use PostgreSQL. WRITE_DELAY=0: each committed transaction reaches the file before the commit returns (H2's
     * default writes up to 500 ms later, and a process killed in between lost a commit its ledger had accepted; see
     * CrashSafetyIT).
     */
    public static String h2(Path storeDir) {
        return "jdbc:h2:file:" + storeDir.toAbsolutePath().normalize().resolve("ledger")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;LOCK_TIMEOUT=10000;WRITE_DELAY=0";
    }
}
