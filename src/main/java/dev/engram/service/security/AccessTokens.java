package dev.engram.service.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The bearer tokens the server accepts, held only as SHA-256 hashes. Each entry reads
 * {@code <sha256 hex of the token> <scope>[,<scope>...] <name>}: one a line in a tokens file ({@code #} starts a
 * comment), or separated by {@code ;} in one environment variable. Make an entry with
 * {@code printf %s "$TOKEN" | sha256sum}.
 */
public final class AccessTokens {
    /** One configured token: who it is and what it may do. */
    public record Holder(String name, Set<AccessScope> scopes) {
    }

    private final Map<String, Holder> byHash;

    private AccessTokens(Map<String, Holder> byHash) {
        this.byHash = Map.copyOf(byHash);
    }

    public static AccessTokens none() {
        return new AccessTokens(Map.of());
    }

    /** Parses entries; {@code where} names their source in error messages (a file and line, or a variable). */
    public static AccessTokens parse(List<String> entries, String where) {
        Map<String, Holder> byHash = new LinkedHashMap<>();
        int line = 0;
        for (String raw : entries) {
            line++;
            String entry = raw.strip();
            if (entry.isEmpty() || entry.startsWith("#")) {
                continue;
            }
            String[] fields = entry.split("\\s+");
            if (fields.length != 3) {
                throw new IllegalArgumentException(where + " entry " + line
                        + ": expected '<sha256 hex> <scopes> <name>', got " + fields.length + " fields");
            }
            String hash = fields[0].toLowerCase(java.util.Locale.ROOT);
            if (!hash.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException(where + " entry " + line
                        + ": the first field must be the token's SHA-256 in hex (64 digits), never the token itself");
            }
            Set<AccessScope> scopes = EnumSet.noneOf(AccessScope.class);
            for (String s : fields[1].split(",")) {
                scopes.add(AccessScope.parse(s));
            }
            if (byHash.put(hash, new Holder(fields[2], scopes)) != null) {
                throw new IllegalArgumentException(where + " entry " + line + ": the same token hash appears twice");
            }
        }
        return new AccessTokens(byHash);
    }

    public boolean isEmpty() {
        return byHash.isEmpty();
    }

    public int size() {
        return byHash.size();
    }

    /** Who holds {@code token}, if anyone. */
    public Optional<Holder> holder(String token) {
        return Optional.ofNullable(byHash.get(sha256Hex(token)));
    }

    /** The SHA-256 of the token's UTF-8 bytes, in lower-case hex: the form entries store. */
    public static String sha256Hex(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
