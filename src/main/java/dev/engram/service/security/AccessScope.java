package dev.engram.service.security;

import java.util.Locale;

/** What a bearer token may do. Scopes do not imply one another: a token lists each one it holds. */
public enum AccessScope {
    /** Lookups, predictions, generation, listings and comparisons. */
    READ,
    /** Proposing, applying and batching edits. */
    EDIT,
    /** Rollback and export. */
    ADMIN;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** "read" / "edit" / "admin", any case. */
    public static AccessScope parse(String s) {
        for (AccessScope scope : values()) {
            if (scope.label().equalsIgnoreCase(s.trim())) {
                return scope;
            }
        }
        throw new IllegalArgumentException("unknown scope '" + s + "' (read, edit or admin)");
    }
}
