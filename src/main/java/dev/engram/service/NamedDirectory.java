package dev.engram.service;

import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A directory a client names under one of the server's directories (an export, a backup): a plain name, never a path,
 * and never one that is taken. Messages name the directory by its name only, not by the server's path.
 */
final class NamedDirectory {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private NamedDirectory() {
    }

    /**
     * {@code <root>/<name>}: INVALID_ARGUMENT on the request's {@code name} field unless it is a plain name,
     * ALREADY_EXISTS when a {@code what} of that name exists.
     */
    static Path resolve(String root, String name, String what) {
        if (!NAME.matcher(name).matches()) {
            throw GrpcErrors.invalid("name", "'" + name + "' must be letters, digits, '.', '_' or '-' (at most 128)");
        }
        Path target = Path.of(root).toAbsolutePath().normalize().resolve(name);
        if (Files.exists(target)) {
            throw Status.ALREADY_EXISTS.withDescription("name: " + what + " called '" + name + "' exists; choose "
                    + "another name").asRuntimeException();
        }
        return target;
    }
}
