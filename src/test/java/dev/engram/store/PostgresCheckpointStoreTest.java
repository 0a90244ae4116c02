package dev.engram.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.engram.support.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store on a real PostgreSQL server that this test starts ({@link TestPostgres}): the whole contract, plus two
 * store instances (two servers' worth of connection pools) sharing one ledger and one store directory.
 */
class PostgresCheckpointStoreTest extends CheckpointStoreContract {
    private static TestPostgres server;
    private static int databases;
    private String database;

    @BeforeAll
    static void startServer() throws Exception {
        server = TestPostgres.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    @Override
    void open() throws Exception {
        database = createDatabase();
        super.open();
    }

    private static String createDatabase() throws Exception {
        String name = "ledger_" + (++databases);
        java.util.Properties login = new java.util.Properties();
        login.setProperty("user", server.user());
        try (Connection c = new org.postgresql.Driver().connect(server.jdbcUrl(), login);
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return name;
    }

    @Override
    LedgerDatabase openEmptyDatabase(java.nio.file.Path dir) throws Exception {
        return LedgerDatabase.open(server.jdbcUrl().replace("/postgres", "/" + createDatabase()), server.user(), "", 4);
    }

    @Override
    LedgerDatabase openDatabase() throws Exception {
        return LedgerDatabase.open(server.jdbcUrl().replace("/postgres", "/" + database), server.user(), "", 4);
    }

    @Test
    void twoInstancesOnOneLedgerSeeEachOthersCommits() throws Exception {
        try (CheckpointStore other = new CheckpointStore(storeDir, openDatabase())) {
            CheckpointRecord mine = commit(CheckpointStore.BASE, delta(MODEL, 2, 3, 11));
            assertEquals(mine.id(), other.head(NAME));
            CheckpointRecord theirs = other.commit(NAME, mine.id(),
                    delta(MODEL.edited(other.composedDelta(NAME, mine.id(), MODEL.config())), 1, 1, 12), "{}", "{}",
                    "other");
            assertEquals(theirs.id(), store.head(NAME));
            assertEquals(2, store.list(NAME).size());
            HeadMovedException lost = org.junit.jupiter.api.Assertions.assertThrows(HeadMovedException.class,
                    () -> commit(mine.id(), delta(view(mine.id()), 0, 0, 13)));
            assertEquals(theirs.id(), lost.actual());
        }
    }
}
