package dev.engram.runtime.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edited view written in the HF layout, with the tokenizer files of its source, reloads with the edited view's
 * logits: on a GPT-2-family checkpoint (seeded weights, the real GPT-2 tokenizer) where no real GPT-2 weights exist.
 */
class EditedExportTest {
    @TempDir
    Path source;
    @TempDir
    Path export;

    @Test
    void anEditedGpt2ViewExportsAndReloadsWithItsLogits() throws Exception {
        Model base = SyntheticModels.gpt2Checkpoint(source, "gpt2-synthetic", 64, 2, 4, 31);
        int d = base.config().dModel();
        WeightDelta delta = base.deltaBuilder()
                .add(1, Param.FFN_DOWN, WeightDelta.Slice.ROW, 7, SyntheticModels.gaussian(d, 1))
                .add(0, Param.ATTN_O, WeightDelta.Slice.ROW, 5, SyntheticModels.gaussian(d, 2))
                .add(1, Param.FFN_UP, WeightDelta.Slice.COLUMN, 3, SyntheticModels.gaussian(d, 3))
                .build();
        Model edited = base.edited(delta);
        int[] tokens = base.tokenizer().encodePrompt("The capital of France is");
        float[] want = ForwardPass.of(edited).lastLogits(tokens);
        assertFalse(Arrays.equals(want, ForwardPass.of(base).lastLogits(tokens)), "the delta changes the logits");

        HfTokenizerFiles.write(source, edited.config(), export);
        HfCheckpoint.save(edited, export, Dtype.F32, 1);
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "generation_config.json")) {
            assertTrue(Files.exists(export.resolve(file)), file);
        }
        try (Model reloaded = HfCheckpoint.load("reloaded", export, TestModels.root())) {
            assertArrayEquals(tokens, reloaded.tokenizer().encodePrompt("The capital of France is"));
            assertArrayEquals(want, ForwardPass.of(reloaded).lastLogits(tokens), 1e-5f);
        }
        base.close();
    }

    @Test
    void aLlama2cSourceHasNoHfTokenizer() {
        assertThrows(UnsupportedOperationException.class,
                () -> HfTokenizerFiles.write(TestModels.stories260KDir(), TestModels.sharedStories260K().config(),
                        export));
    }
}
