package dev.engram.store;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.AgroalConnectionFactoryConfiguration.TransactionIsolation;
import io.agroal.api.configuration.AgroalConnectionPoolConfiguration;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.resource.LoadableResource;

/**
 * The ledger's database: a pooled JDBC data source, migrated by Flyway on open. An {@code jdbc:h2:} URL is the
 * embedded file database (the default: nothing to install); a {@code jdbc:postgresql:} URL is a PostgreSQL server that
 * several replicas can share. Both run the same migrations, from {@code db/ledger/} on the class path.
 */
public final class LedgerDatabase implements AutoCloseable {
    /** The migrations in order. Listed here rather than scanned, so that every class loader finds the same ones. */
    static final List<String> MIGRATIONS = List.of("V1__checkpoint_ledger.sql");
    private static final String LOCATION = "db/ledger/";

    /** How often the embedded ledger's file size is checked, and how much it may outgrow twice its compacted size. */
    static final Duration COMPACTION_CHECK = Duration.ofSeconds(30);
    static final long COMPACTION_SLACK = 1L << 20;
    private static final Duration COMPACTION_LOCK_WAIT = Duration.ofSeconds(2);

    private final AgroalDataSource dataSource;
    private final String url;
    private final EmbeddedLedgerCompaction compaction;

    private LedgerDatabase(AgroalDataSource dataSource, String url, String user, String password, Duration check,
            long slack) {
        this.dataSource = dataSource;
        this.url = url;
        this.compaction = EmbeddedLedgerCompaction.forUrl(url, check, slack, COMPACTION_LOCK_WAIT,
                new EmbeddedLedgerCompaction.Pool() {
                    @Override
                    public Connection pooled() throws SQLException {
                        return dataSource.getConnection();
                    }

                    @Override
                    public Connection unpooled() throws SQLException {
                        java.util.Properties credentials = new java.util.Properties();
                        credentials.setProperty("user", user == null ? "" : user);
                        credentials.setProperty("password", password == null ? "" : password);
                        return new org.h2.Driver().connect(url, credentials);
                    }

                    @Override
                    public void dropClosed() {
                        dataSource.flush(AgroalDataSource.FlushMode.INVALID); // borrowing validates too
                    }
                });
    }

    /** Connects to {@code url} and brings its schema up to date (Flyway needs two connections at once). */
    public static LedgerDatabase open(String url, String user, String password, int maxConnections) throws SQLException {
        return open(url, user, password, maxConnections, COMPACTION_CHECK, COMPACTION_SLACK);
    }

    /** As {@link #open(String, String, String, int)}, checking an embedded ledger's file every {@code check}. */
    static LedgerDatabase open(String url, String user, String password, int maxConnections, Duration check,
            long slack) throws SQLException {
        Class<?> driver = driverFor(url);
        AgroalDataSourceConfigurationSupplier config = new AgroalDataSourceConfigurationSupplier()
                .connectionPoolConfiguration(pool -> pool.minSize(0).initialSize(0).maxSize(Math.max(2, maxConnections))
                        .acquisitionTimeout(Duration.ofSeconds(30))
                        // an embedded ledger's connections end when its compaction closes the database
                        .validateOnBorrow(EmbeddedLedgerCompaction.applies(url))
                        .connectionValidator(AgroalConnectionPoolConfiguration.ConnectionValidator.defaultValidator())
                        .connectionFactoryConfiguration(factory -> {
                            factory.jdbcUrl(url).connectionProviderClass(driver).autoCommit(true)
                                    .jdbcTransactionIsolation(TransactionIsolation.READ_COMMITTED);
                            if (user != null && !user.isEmpty()) {
                                factory.principal(new NamePrincipal(user));
                            }
                            if (password != null && !password.isEmpty()) {
                                factory.credential(new SimplePassword(password));
                            }
                            return factory;
                        }));
        AgroalDataSource dataSource = AgroalDataSource.from(config);
        try {
            Flyway.configure(LedgerDatabase.class.getClassLoader()).dataSource(dataSource)
                    .resourceProvider(new Migrations()).load().migrate();
        } catch (RuntimeException e) {
            dataSource.close();
            throw new SQLException("ledger migration failed on " + redacted(url) + ": " + e.getMessage(), e);
        }
        return new LedgerDatabase(dataSource, url, user, password, check, slack);
    }

    private static Class<?> driverFor(String url) throws SQLException {
        if (url.startsWith("jdbc:h2:")) {
            return org.h2.Driver.class;
        }
        if (url.startsWith("jdbc:postgresql:")) {
            return org.postgresql.Driver.class;
        }
        throw new SQLException("engram.store.jdbc-url: only jdbc:h2: and jdbc:postgresql: ledgers are supported, got "
                + redacted(url));
    }

    public Connection connection() throws SQLException {
        return compaction == null ? dataSource.getConnection() : compaction.lease();
    }

    /** The embedded ledger's compaction, or null for a ledger server. */
    EmbeddedLedgerCompaction compaction() {
        return compaction;
    }

    /** The URL without any query parameters (they may hold credentials). */
    public String describe() {
        return redacted(url);
    }

    private static String redacted(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q) + "?…";
    }

    @Override
    public void close() {
        if (compaction != null) {
            compaction.close();
        }
        dataSource.close();
    }

    /** The listed migrations, read from the class path. */
    private static final class Migrations implements ResourceProvider {
        @Override
        public LoadableResource getResource(String name) {
            return MIGRATIONS.contains(name) ? new Migration(name) : null;
        }

        @Override
        public Collection<LoadableResource> getResources(String prefix, String[] suffixes) {
            List<LoadableResource> out = new ArrayList<>();
            for (String name : MIGRATIONS) {
                if (name.startsWith(prefix) && Arrays.stream(suffixes).anyMatch(name::endsWith)) {
                    out.add(new Migration(name));
                }
            }
            return out;
        }
    }

    private static final class Migration extends LoadableResource {
        private final String name;

        Migration(String name) {
            this.name = name;
        }

        @Override
        public Reader read() {
            try (InputStream in = LedgerDatabase.class.getClassLoader().getResourceAsStream(LOCATION + name)) {
                if (in == null) {
                    throw new IllegalStateException("migration " + LOCATION + name + " is missing from the class path");
                }
                return new StringReader(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String getAbsolutePath() {
            return LOCATION + name;
        }

        @Override
        public String getAbsolutePathOnDisk() {
            return null;
        }

        @Override
        public String getFilename() {
            return name;
        }

        @Override
        public String getRelativePath() {
            return name;
        }
    }
}
