package dev.engram.service.security;

import dev.engram.service.EngramConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Arrays;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The server's tokens, from {@code engram.auth.tokens-file} (re-read while the server runs, see {@link TokenSource})
 * and {@code engram.auth.tokens} (ENGRAM_AUTH_TOKENS), and the rule that ties them to the listening address: with no
 * tokens at start the server must listen on a loopback address, and it refuses to start otherwise. A server that
 * started with tokens keeps authenticating whatever the file later holds: emptied, it refuses every call.
 */
@ApplicationScoped
public class AccessControl {
    private static final Logger LOG = Logger.getLogger(AccessControl.class);
    private final TokenSource source;
    private final boolean authenticating;
    private final String host;

    AccessControl(EngramConfig config, @ConfigProperty(name = "quarkus.grpc.server.host") String host) {
        this.source = new TokenSource(config.auth().tokensFile().filter(f -> !f.isBlank()).map(Path::of),
                config.auth().tokens().filter(t -> !t.isBlank()), config.auth().tokensRecheck().toNanos(),
                System::nanoTime);
        this.authenticating = !source.tokens().isEmpty();
        this.host = host;
    }

    /** The tokens accepted now. */
    public AccessTokens tokens() {
        return source.tokens();
    }

    /** Whether calls need a token: the server started with at least one. */
    public boolean authenticating() {
        return authenticating;
    }

    void checkOnStart(@Observes StartupEvent event) {
        AccessTokens tokens = tokens();
        check(tokens, host);
        if (tokens.isEmpty()) {
            LOG.warnf("no access tokens configured: listening on %s (loopback) only, without authentication", host);
        } else {
            LOG.infof("%d access token(s) configured: every call but health and reflection needs a bearer token",
                    tokens.size());
        }
    }

    /** Refuses a non-loopback listening address without tokens. */
    static void check(AccessTokens tokens, String host) {
        if (tokens.isEmpty() && !isLoopback(host)) {
            throw new IllegalStateException("quarkus.grpc.server.host=" + host + " is not a loopback address, and no access "
                    + "tokens are configured: set engram.auth.tokens-file or ENGRAM_AUTH_TOKENS, or listen on "
                    + "127.0.0.1");
        }
    }

    static boolean isLoopback(String host) {
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            return Arrays.stream(all).allMatch(InetAddress::isLoopbackAddress);
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
