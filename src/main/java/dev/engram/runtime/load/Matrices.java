package dev.engram.runtime.load;

/** Row-major float matrix re-layouts done once at load or export time. */
public final class Matrices {
    private Matrices() {
    }

    /** [rows, cols] → [cols, rows]. */
    public static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    /**
     * Reorders the rows of a q or k projection stored [out, in] from adjacent rotary pairs to rotate-half pairs:
     * within each head, new row (half·d_head/2 + i) is old row (2i + half). This is the permutation Hugging Face's
     * Llama conversion applies to Meta's checkpoints.
     */
    public static float[] adjacentToHalfRows(float[] w, int heads, int headDim, int in) {
        float[] out = new float[w.length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int part = 0; part < 2; part++) {
                    int adjacentRow = h * headDim + 2 * i + part;
                    int halfRow = h * headDim + part * half + i;
                    System.arraycopy(w, adjacentRow * in, out, halfRow * in, in);
                }
            }
        }
        return out;
    }
}
