package dev.engram.service.security;

import dev.engram.service.EngramConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The server's tokens, from {@code engram.auth.tokens-file} and {@code engram.auth.tokens} (ENGRAM_AUTH_TOKENS), and
 * the rule that ties them to the listening address: with no tokens the server must listen on a loopback address, and
 * it refuses to start otherwise.
 */
@ApplicationScoped
public class AccessControl {
    private static final Logger LOG = Logger.getLogger(AccessControl.class);
    private final AccessTokens tokens;
    private final String host;

    AccessControl(EngramConfig config, @ConfigProperty(name = "quarkus.grpc.server.host") String host) {
        this.tokens = load(config.auth().tokensFile().filter(f -> !f.isBlank()),
                config.auth().tokens().filter(t -> !t.isBlank()));
        this.host = host;
    }

    static AccessTokens load(Optional<String> tokensFile, Optional<String> inline) {
        List<String> entries = new ArrayList<>();
        String where = "engram.auth.tokens";
        if (tokensFile.isPresent()) {
            try {
                entries.addAll(Files.readAllLines(Path.of(tokensFile.get())));
                where = "engram.auth.tokens-file";
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read engram.auth.tokens-file " + tokensFile.get(), e);
            }
        }
        inline.ifPresent(s -> entries.addAll(Arrays.asList(s.split(";"))));
        return AccessTokens.parse(entries, where);
    }

    public AccessTokens tokens() {
        return tokens;
    }

    void checkOnStart(@Observes StartupEvent event) {
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
