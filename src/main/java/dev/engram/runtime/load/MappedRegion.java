package dev.engram.runtime.load;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only memory map of part of a file, unmapped when closed rather than whenever the collector gets to it: a
 * loader walks a checkpoint through maps like this one, and the pages it has read stop counting towards the process's
 * resident memory as soon as each tensor is done. The buffer must not be used (or handed on) after close.
 */
final class MappedRegion implements AutoCloseable {
    private final MappedByteBuffer buffer;

    MappedRegion(Path file, long position, long length) throws IOException {
        if (length > Integer.MAX_VALUE) {
            throw new IOException(file + ": a region of " + length + " bytes is too large to map at once");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            buffer = channel.map(FileChannel.MapMode.READ_ONLY, position, length);
        }
        buffer.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The mapped bytes, little-endian; valid until {@link #close}. */
    MappedByteBuffer bytes() {
        return buffer;
    }

    @Override
    public void close() {
        DirectBuffers.free(buffer);
    }
}
