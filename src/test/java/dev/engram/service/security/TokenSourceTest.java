package dev.engram.service.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokens file re-read on a clock: when it is read again, what a change does, and what never opens the server. */
class TokenSourceTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong clock = new AtomicLong(0);

    private static String entry(String token, String name) {
        return AccessTokens.sha256Hex(token) + " read " + name;
    }

    @Test
    void aChangedFileReplacesTheTokensAfterTheRecheckInterval(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokens");
        Files.write(file, List.of(entry("a", "alice")));
        TokenSource source = new TokenSource(Optional.of(file), Optional.of(entry("i", "inline")), SECOND, clock::get);
        assertTrue(source.tokens().holder("a").isPresent());

        Files.write(file, List.of(entry("b", "bob")));
        clock.addAndGet(SECOND - 1);
        assertTrue(source.tokens().holder("a").isPresent(), "re-read before its interval");
        clock.addAndGet(1);
        assertFalse(source.tokens().holder("a").isPresent(), "a removed token is still accepted");
        assertEquals("bob", source.tokens().holder("b").orElseThrow().name());
        assertEquals("inline", source.tokens().holder("i").orElseThrow().name(), "inline tokens stay");
    }

    @Test
    void aBrokenOrMissingFileKeepsTheLastGoodTokens(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokens");
        Files.write(file, List.of(entry("a", "alice")));
        TokenSource source = new TokenSource(Optional.of(file), Optional.empty(), SECOND, clock::get);

        Files.write(file, List.of("the token itself, not its hash"));
        clock.addAndGet(SECOND);
        assertEquals("alice", source.tokens().holder("a").orElseThrow().name());

        Files.delete(file);
        clock.addAndGet(SECOND);
        assertEquals("alice", source.tokens().holder("a").orElseThrow().name());

        Files.write(file, List.of("# every token revoked"));
        clock.addAndGet(SECOND);
        assertTrue(source.tokens().isEmpty(), "an emptied file revokes every token");
    }

    @Test
    void aFileThatDoesNotParseAtStartIsAnError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokens");
        Files.write(file, List.of("secret-token read alice"));
        assertThrows(IllegalArgumentException.class,
                () -> new TokenSource(Optional.of(file), Optional.empty(), SECOND, clock::get));
    }
}
