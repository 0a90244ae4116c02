package dev.engram.store;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps the embedded (H2) ledger's file near the size of what it holds. H2 2.x's MVStore writes every commit as a new
 * chunk and reuses the space of superseded ones, but gives the file back only when the database closes: a server that
 * moves heads all day grows its {@code ledger.mv.db} by about 1.5 KB a head move while the rows themselves take tens of
 * bytes (measured: 6,000 head moves, 7.9 MB open, 0.17 MB after {@code SHUTDOWN COMPACT}). H2's online
 * {@code MVStore.compactFile} is not safe beside a running SQL engine (h2database#3765), so this closes the database
 * the supported way instead: every {@code check}, when the file exceeds twice its size after the last compaction plus
 * {@code slack}, it waits (up to {@code lockWait}) until no ledger connection is out, runs {@code SHUTDOWN COMPACT},
 * has the pool drop its now-closed connections and lets the next connection reopen the file. Ledger calls wait while it
 * runs (milliseconds for a ledger of this size). PostgreSQL ledgers reclaim space themselves (autovacuum) and are not
 * wrapped.
 */
final class EmbeddedLedgerCompaction implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EmbeddedLedgerCompaction.class.getName());
    private static final String FILE_PREFIX = "jdbc:h2:file:";
    private static final String H2_SUFFIX = ".mv.db";

    /**
     * What the compaction needs from the pool: a pooled connection, one outside the pool (the compaction closes the
     * database through it, and a pooled one would be reset on its return to a database already closed), and a way to
     * drop the pooled ones that ended.
     */
    interface Pool {
        Connection pooled() throws SQLException;

        Connection unpooled() throws SQLException;

        void dropClosed();
    }

    private final Path file;
    private final long slack;
    private final Duration lockWait;
    private final Pool pool;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final AtomicLong compactedSize = new AtomicLong();
    private final AtomicLong compactions = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ScheduledExecutorService checker;

    private EmbeddedLedgerCompaction(Path file, Duration check, long slack, Duration lockWait, Pool pool) {
        this.file = file;
        this.slack = slack;
        this.lockWait = lockWait;
        this.pool = pool;
        this.compactedSize.set(size());
        this.checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ledger-compaction");
            t.setDaemon(true);
            return t;
        });
        checker.scheduleWithFixedDelay(this::compactIfGrown, check.toMillis(), check.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether {@code url} names an H2 file database, the kind this compacts. */
    static boolean applies(String url) {
        return url.startsWith(FILE_PREFIX);
    }

    /** The compaction for {@code url} when it names an H2 file database; null otherwise. */
    static EmbeddedLedgerCompaction forUrl(String url, Duration check, long slack, Duration lockWait, Pool pool) {
        if (!applies(url)) {
            return null;
        }
        int options = url.indexOf(';');
        String base = url.substring(FILE_PREFIX.length(), options < 0 ? url.length() : options);
        return new EmbeddedLedgerCompaction(Path.of(base + H2_SUFFIX), check, slack, lockWait, pool);
    }

    /** A pooled connection that holds the shared side of the lock until it is closed. */
    Connection lease() throws SQLException {
        lock.readLock().lock();
        Connection c;
        try {
            c = pool.pooled();
        } catch (SQLException | RuntimeException e) {
            lock.readLock().unlock();
            throw e;
        }
        AtomicBoolean released = new AtomicBoolean();
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("close") && method.getParameterCount() == 0) {
                try {
                    return method.invoke(c);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                } finally {
                    if (released.compareAndSet(false, true)) {
                        lock.readLock().unlock();
                    }
                }
            }
            try {
                return method.invoke(c, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                handler);
    }

    /** How many times the file was compacted. */
    long compactions() {
        return compactions.get();
    }

    /** The size the file may reach before it is compacted: twice its size after the last compaction, plus slack. */
    long bound() {
        return 2 * compactedSize.get() + slack;
    }

    /** When the file has outgrown its bound, compacts it; otherwise does nothing. */
    void compactIfGrown() {
        if (closed.get() || size() <= bound()) {
            return;
        }
        try {
            if (!lock.writeLock().tryLock(lockWait.toMillis(), TimeUnit.MILLISECONDS)) {
                return; // a connection stayed out; the next check tries again
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            long before = size();
            try (Connection c = pool.unpooled(); Statement s = c.createStatement()) {
                s.execute("SHUTDOWN COMPACT");
            } finally {
                pool.dropClosed();
            }
            compactedSize.set(size());
            compactions.incrementAndGet();
            LOG.info(() -> "embedded ledger compacted: " + before + " -> " + compactedSize.get() + " bytes");
        } catch (SQLException | RuntimeException e) {
            LOG.log(Level.WARNING, "embedded ledger compaction failed; the next check tries again", e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    private long size() {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        closed.set(true);
        checker.shutdown(); // a compaction under way finishes before the pool closes
        try {
            checker.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
