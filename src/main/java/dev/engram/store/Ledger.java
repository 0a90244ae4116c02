package dev.engram.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The ledger's SQL: checkpoint rows, each model's head, and the history of head moves. A commit inserts its row and
 * moves the head in one transaction, with a compare-and-set on the head it expects (optimistic concurrency), so two
 * commits on the same parent cannot both win. The base weights are {@link CheckpointStore#BASE} here and NULL in the
 * tables.
 */
final class Ledger {
    private static final String COLUMNS = "id, model, parent_id, delta_hash, vectors, parameters_touched, delta_norm, "
            + "store_bytes, author, created_at, request_json, report_json";
    private final LedgerDatabase db;

    Ledger(LedgerDatabase db) {
        this.db = db;
    }

    Optional<CheckpointRecord> find(String id) throws SQLException {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM checkpoint WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(record(rs)) : Optional.empty();
            }
        }
    }

    /** Ids of {@code model}'s checkpoints that start with {@code prefix} (hex digits), at most {@code limit}. */
    List<String> idsStartingWith(String model, String prefix, int limit) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM checkpoint WHERE model = ? AND id LIKE ? ORDER BY id LIMIT " + limit)) {
            ps.setString(1, model);
            ps.setString(2, prefix + "%"); // the store lets only hex digits through
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    List<CheckpointRecord> list(String model) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM checkpoint WHERE model = ? ORDER BY created_at, id")) {
            ps.setString(1, model);
            List<CheckpointRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(record(rs));
                }
            }
            return out;
        }
    }

    String head(String model) throws SQLException {
        try (Connection c = db.connection()) {
            return head(c, model);
        }
    }

    private static String head(Connection c, String model) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT checkpoint_id FROM model_head WHERE model = ?")) {
            ps.setString(1, model);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? fromDb(rs.getString(1)) : CheckpointStore.BASE;
            }
        }
    }

    List<HeadMove> history(String model) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT seq, model, from_checkpoint, to_checkpoint, reason, author, moved_at FROM head_move "
                        + "WHERE model = ? ORDER BY seq")) {
            ps.setString(1, model);
            List<HeadMove> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new HeadMove(rs.getLong(1), rs.getString(2), fromDb(rs.getString(3)),
                            fromDb(rs.getString(4)), rs.getString(5), rs.getString(6), instant(rs, 7)));
                }
            }
            return out;
        }
    }

    /**
     * In one transaction: inserts {@code record} (unless a row with its id exists: same parent, same delta) and moves
     * the head of its model from its parent to it. HeadMovedException when the head is no longer the parent.
     */
    void commit(CheckpointRecord record) throws SQLException, HeadMovedException {
        ensureHeadRow(record.model());
        transaction(record.model(), record.parentId(), c -> {
            if (!exists(c, record.id())) {
                insert(c, record);
            }
            return moveHead(c, record.model(), record.parentId(), record.id(), HeadMove.COMMIT, record.author());
        });
    }

    /** Moves the head of {@code model} from {@code expected} to {@code to} (a checkpoint of the model, or BASE). */
    void move(String model, String expected, String to, String reason, String author)
            throws SQLException, HeadMovedException {
        ensureHeadRow(model);
        transaction(model, expected, c -> moveHead(c, model, expected, to, reason, author));
    }

    /**
     * Every row, read in one REPEATABLE READ transaction: a consistent picture while commits go on (files are
     * published before their rows, so every row read has its files).
     */
    LedgerSnapshot snapshot() throws SQLException {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                List<CheckpointRecord> checkpoints = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                        + " FROM checkpoint ORDER BY created_at, id"); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        checkpoints.add(record(rs));
                    }
                }
                List<LedgerSnapshot.ModelHead> heads = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT model, checkpoint_id, moved_at FROM model_head ORDER BY model");
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        heads.add(new LedgerSnapshot.ModelHead(rs.getString(1), fromDb(rs.getString(2)),
                                instant(rs, 3)));
                    }
                }
                List<HeadMove> moves = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT seq, model, from_checkpoint, to_checkpoint, "
                        + "reason, author, moved_at FROM head_move ORDER BY seq"); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        moves.add(new HeadMove(rs.getLong(1), rs.getString(2), fromDb(rs.getString(3)),
                                fromDb(rs.getString(4)), rs.getString(5), rs.getString(6), instant(rs, 7)));
                    }
                }
                c.commit();
                return new LedgerSnapshot(checkpoints, heads, moves);
            } finally {
                c.rollback();
                c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                c.setAutoCommit(true);
            }
        }
    }

    /** Whether the ledger holds no row at all. */
    boolean isEmpty() throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT (SELECT COUNT(*) FROM checkpoint) + (SELECT COUNT(*) FROM model_head) "
                        + "+ (SELECT COUNT(*) FROM head_move)"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1) == 0;
        }
    }

    /**
     * Writes {@code snapshot} into this (empty) ledger in one transaction: checkpoints parents first, head moves in
     * their order (numbered afresh), then the heads.
     */
    void restore(LedgerSnapshot snapshot) throws SQLException {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                for (CheckpointRecord r : snapshot.parentsFirst()) {
                    insert(c, r);
                }
                for (HeadMove m : snapshot.moves()) {
                    insertMove(c, m.model(), m.from(), m.to(), m.reason(), m.author(), Timestamp.from(m.movedAt()));
                }
                for (LedgerSnapshot.ModelHead h : snapshot.heads()) {
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO model_head (model, checkpoint_id, moved_at) VALUES (?, ?, ?)")) {
                        ps.setString(1, h.model());
                        setId(ps, 2, h.checkpointId());
                        ps.setTimestamp(3, Timestamp.from(h.movedAt()));
                        ps.executeUpdate();
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    @FunctionalInterface
    private interface Work {
        boolean run(Connection c) throws SQLException;
    }

    private void transaction(String model, String expected, Work work) throws SQLException, HeadMovedException {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            boolean moved;
            try {
                moved = work.run(c);
            } catch (SQLException e) {
                c.rollback();
                // a writer that lost a race on the same row fails here (unique key, lock or serialization error)
                String now = head(model);
                if (!now.equals(expected)) {
                    throw new HeadMovedException(model, expected, now);
                }
                throw e;
            }
            if (!moved) {
                c.rollback();
                throw new HeadMovedException(model, expected, head(model));
            }
            c.commit();
        }
    }

    /** UPDATE … WHERE checkpoint_id IS NOT DISTINCT FROM expected: the compare-and-set on the head. */
    private static boolean moveHead(Connection c, String model, String expected, String to, String reason,
            String author) throws SQLException {
        Timestamp now = Timestamp.from(Instant.now());
        try (PreparedStatement ps = c.prepareStatement("UPDATE model_head SET checkpoint_id = ?, moved_at = ? "
                + "WHERE model = ? AND checkpoint_id IS NOT DISTINCT FROM ?")) {
            setId(ps, 1, to);
            ps.setTimestamp(2, now);
            ps.setString(3, model);
            setId(ps, 4, expected);
            if (ps.executeUpdate() != 1) {
                return false;
            }
        }
        insertMove(c, model, expected, to, reason, author, now);
        return true;
    }

    private static void insertMove(Connection c, String model, String from, String to, String reason, String author,
            Timestamp at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO head_move (model, from_checkpoint, to_checkpoint, "
                + "reason, author, moved_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, model);
            setId(ps, 2, from);
            setId(ps, 3, to);
            ps.setString(4, reason);
            ps.setString(5, author);
            ps.setTimestamp(6, at);
            ps.executeUpdate();
        }
    }

    /** The head row of a model starts at the base; a concurrent first insert by another writer is fine. */
    private void ensureHeadRow(String model) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO model_head (model, checkpoint_id, moved_at) SELECT ?, NULL, ? "
                        + "WHERE NOT EXISTS (SELECT 1 FROM model_head WHERE model = ?)")) {
            ps.setString(1, model);
            ps.setTimestamp(2, Timestamp.from(Instant.now()));
            ps.setString(3, model);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    private static boolean exists(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM checkpoint WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void insert(Connection c, CheckpointRecord r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO checkpoint (" + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, r.id());
            ps.setString(2, r.model());
            setId(ps, 3, r.parentId());
            ps.setString(4, r.deltaHash());
            ps.setInt(5, r.vectors());
            ps.setLong(6, r.parametersTouched());
            ps.setDouble(7, r.deltaNorm());
            ps.setLong(8, r.storeBytes());
            ps.setString(9, r.author());
            ps.setTimestamp(10, Timestamp.from(r.createdAt()));
            ps.setString(11, r.requestJson());
            ps.setString(12, r.reportJson());
            ps.executeUpdate();
        }
    }

    private static CheckpointRecord record(ResultSet rs) throws SQLException {
        return new CheckpointRecord(rs.getString(1), rs.getString(2), fromDb(rs.getString(3)), rs.getString(4),
                rs.getInt(5), rs.getLong(6), rs.getDouble(7), rs.getLong(8), rs.getString(9), instant(rs, 10),
                rs.getString(11), rs.getString(12));
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        return rs.getTimestamp(column).toInstant();
    }

    private static void setId(PreparedStatement ps, int index, String id) throws SQLException {
        if (CheckpointStore.BASE.equals(id)) {
            ps.setNull(index, Types.VARCHAR);
        } else {
            ps.setString(index, id);
        }
    }

    private static String fromDb(String id) {
        return id == null ? CheckpointStore.BASE : id;
    }
}
