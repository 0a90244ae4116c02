package dev.engram.store;

/** The store on the default ledger: H2's embedded file database, in PostgreSQL mode. */
class H2CheckpointStoreTest extends CheckpointStoreContract {
    @Override
    LedgerDatabase openDatabase() throws Exception {
        return LedgerDatabase.open(LedgerUrls.h2(storeDir), "", "", 4);
    }

    @Override
    LedgerDatabase openEmptyDatabase(java.nio.file.Path dir) throws Exception {
        return LedgerDatabase.open(LedgerUrls.h2(dir), "", "", 4);
    }
}
