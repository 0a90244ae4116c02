#!/usr/bin/env python3
"""Loads an Engram export with Hugging Face transformers, unchanged, and compares its logits with Engram's.

ExportCheckpoint writes engram-reference/ beside the model: reference.json (prompts and the token ids Engram gave
them) and logits.safetensors (tensor i: Engram's logits for prompt i, [T, V]). This script loads the directory with
AutoModelForCausalLM and AutoTokenizer, checks that the tokenizer gives the same ids, runs every prompt and reports
the largest absolute logit difference; it exits 1 if any exceeds the tolerance (1e-4 by default).

    pip install torch transformers safetensors
    python scripts/check_hf_export.py models/exports/smollm2-<id>
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer


def main(directory: str, tolerance: float = 1e-4) -> int:
    root = Path(directory)
    reference = json.loads((root / "engram-reference" / "reference.json").read_text())
    expected = load_file(str(root / "engram-reference" / "logits.safetensors"))
    model = AutoModelForCausalLM.from_pretrained(root, dtype=torch.float32)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(root)
    print(f"{type(model).__name__} and {type(tokenizer).__name__} loaded from {root}")
    print(f"model {reference['model']}, checkpoint {reference['checkpoint']}")
    worst = 0.0
    for prompt in reference["prompts"]:
        ids = prompt["token_ids"]
        hf_ids = tokenizer(prompt["text"])["input_ids"]
        same_ids = hf_ids == ids
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
        diff = (logits - expected[prompt["logits"]]).abs().max().item()
        worst = max(worst, diff)
        top = tokenizer.decode([int(logits[-1].argmax())])
        print(f"{prompt['text']!r}: {len(ids)} tokens, same ids as Engram: {same_ids}, "
              f"max |logit diff| {diff:.2e}, top-1 next token {top!r}")
        if not same_ids:
            print(f"  transformers ids {hf_ids} vs Engram {ids}")
            worst = float("inf")
    ok = worst <= tolerance
    print(f"largest difference {worst:.2e} (tolerance {tolerance:.0e}): {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2], *(float(a) for a in sys.argv[2:3])))
