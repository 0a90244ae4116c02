package dev.engram.service.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Where the server's tokens come from, re-read while it runs: the inline entries (fixed at start) and the tokens file,
 * whose bytes are read again at most once per {@code recheckNanos} when a call needs the tokens. A changed file replaces
 * the set at once, so a removed token is refused from the first call after the next re-read. A file that no longer
 * parses, or has gone (a secret being swapped), keeps the last good set and is logged; it never opens the server.
 */
final class TokenSource {
    private static final Logger LOG = Logger.getLogger(TokenSource.class);
    private final Optional<Path> file;
    private final List<String> inline;
    private final long recheckNanos;
    private final LongSupplier clock;
    private volatile AccessTokens current;
    private byte[] lastBytes;
    private volatile long lastCheck;

    /** Reads both sources now; a file that cannot be read or parsed at start is an error (the server does not start). */
    TokenSource(Optional<Path> file, Optional<String> inline, long recheckNanos, LongSupplier clock) {
        this.file = file;
        this.inline = inline.map(s -> Arrays.asList(s.split(";"))).orElse(List.of());
        this.recheckNanos = recheckNanos;
        this.clock = clock;
        try {
            this.lastBytes = file.isPresent() ? Files.readAllBytes(file.get()) : new byte[0];
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read engram.auth.tokens-file " + file.get(), e);
        }
        this.current = parse(lastBytes);
        this.lastCheck = clock.getAsLong();
    }

    /** The tokens now: the file re-read first when the last read is older than the re-check interval. */
    AccessTokens tokens() {
        if (file.isPresent() && clock.getAsLong() - lastCheck >= recheckNanos) {
            recheck();
        }
        return current;
    }

    private synchronized void recheck() {
        long now = clock.getAsLong();
        if (now - lastCheck < recheckNanos) {
            return; // another call re-read it meanwhile
        }
        lastCheck = now;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file.get());
        } catch (IOException e) {
            LOG.warnf("cannot re-read engram.auth.tokens-file %s (%s): keeping its last %d token(s)", file.get(),
                    e.toString(), current.size());
            return;
        }
        if (Arrays.equals(bytes, lastBytes)) {
            return;
        }
        lastBytes = bytes;
        try {
            current = parse(bytes);
            LOG.infof("engram.auth.tokens-file %s changed: %d token(s) now", file.get(), current.size());
        } catch (IllegalArgumentException e) {
            LOG.errorf("engram.auth.tokens-file %s changed but does not parse (%s): keeping its last %d token(s)",
                    file.get(), e.getMessage(), current.size());
        }
    }

    private AccessTokens parse(byte[] fileBytes) {
        List<String> entries = new ArrayList<>(
                new String(fileBytes, java.nio.charset.StandardCharsets.UTF_8).lines().toList());
        entries.addAll(inline);
        return AccessTokens.parse(entries, file.isPresent() ? "engram.auth.tokens-file" : "engram.auth.tokens");
    }
}
