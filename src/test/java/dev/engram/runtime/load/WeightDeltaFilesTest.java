package dev.engram.runtime.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.engram.runtime.Model;
import dev.engram.runtime.Param;
import dev.engram.runtime.WeightDelta;
import dev.engram.support.SyntheticModels;
import dev.engram.support.TestModels;
import dev.engram.trace.ForwardPass;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A delta's file form: safetensors vectors plus a JSON manifest, read back exactly and checked. */
class WeightDeltaFilesTest {
    private static final Model MODEL = TestModels.sharedStories260K();

    @TempDir
    Path dir;

    private static WeightDelta delta() {
        return MODEL.deltaBuilder()
                .add(4, Param.FFN_DOWN, WeightDelta.Slice.ROW, 17, SyntheticModels.gaussian(64, 1))
                .add(2, Param.ATTN_O, WeightDelta.Slice.ROW, 9, SyntheticModels.gaussian(64, 2))
                .add(1, Param.FFN_UP, WeightDelta.Slice.COLUMN, 3, SyntheticModels.gaussian(64, 3))
                .build();
    }

    @Test
    void aDeltaRoundTripsExactly() throws Exception {
        WeightDelta written = delta();
        WeightDeltaFiles.write(written, dir);
        assertTrue(Files.exists(dir.resolve(WeightDeltaFiles.VECTORS)));
        assertTrue(Files.readString(dir.resolve(WeightDeltaFiles.MANIFEST)).contains(written.hash()));
        try (var listing = Files.list(dir)) {
            assertFalse(listing.anyMatch(p -> p.toString().endsWith(".tmp")), "no temp file is left behind");
        }
        WeightDelta read = WeightDeltaFiles.read(dir, MODEL.config());
        assertEquals(written, read);
        assertEquals(written.hash(), read.hash());
        for (int i = 0; i < written.entries().size(); i++) {
            assertArrayEquals(written.entries().get(i).original(), read.entries().get(i).original(), 0f);
            assertArrayEquals(written.entries().get(i).change(), read.entries().get(i).change(), 0f);
        }
        int[] tokens = {1, 403, 407, 261};
        assertArrayEquals(ForwardPass.of(MODEL.edited(written)).lastLogits(tokens),
                ForwardPass.of(MODEL.edited(read)).lastLogits(tokens), 0f);
    }

    @Test
    void aTamperedOrForeignDeltaIsRejected() throws Exception {
        WeightDeltaFiles.write(delta(), dir);
        Path manifest = dir.resolve(WeightDeltaFiles.MANIFEST);
        String good = Files.readString(manifest);
        Files.writeString(manifest, good.replaceFirst("\"hash\" : \"[0-9a-f]{4}", "\"hash\" : \"0000"));
        IllegalArgumentException hash = assertThrows(IllegalArgumentException.class,
                () -> WeightDeltaFiles.read(dir, MODEL.config()));
        assertTrue(hash.getMessage().contains("hash"), hash.getMessage());
        Files.writeString(manifest, good.replace("\"layer\" : 4", "\"layer\" : 9"));
        assertThrows(IllegalArgumentException.class, () -> WeightDeltaFiles.read(dir, MODEL.config()));
        Files.writeString(manifest, good.replace("FFN_DOWN", "FFN_SIDEWAYS"));
        assertThrows(IllegalArgumentException.class, () -> WeightDeltaFiles.read(dir, MODEL.config()));
        Files.writeString(manifest, good.replace(WeightDeltaFiles.FORMAT, "something-else"));
        assertThrows(IllegalArgumentException.class, () -> WeightDeltaFiles.read(dir, MODEL.config()));
        Files.writeString(manifest, good);
        try (Model gpt2 = SyntheticModels.random("g", SyntheticModels.gpt2(32, 2, 4), false, 9, TestModels.root())) {
            assertThrows(IllegalArgumentException.class, () -> WeightDeltaFiles.read(dir, gpt2.config()),
                    "a delta for another model's shapes");
        }
        assertEquals(delta(), WeightDeltaFiles.read(dir, MODEL.config()));
    }
}
