#!/usr/bin/env bash
# Builds engram-client's sdist and wheel with the standard build frontend, installs the sdist from a directory outside
# the repository (so it must carry its own protos), and runs the tests against a server they start from
# target/quarkus-app. Called by PythonClientIT during `mvn verify`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ENGRAM_PYTHON_VENV:-$here/../../target/python-venv}"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check build
dist="$(mktemp -d)"
outside="$(mktemp -d)"
trap 'rm -rf "$dist" "$outside"' EXIT
"$venv/bin/python" -m build -q --sdist --wheel --outdir "$dist" "$here" > "$dist/build.log" 2>&1 \
  || { cat "$dist/build.log"; exit 1; }
cp "$dist"/engram_client-*.tar.gz "$outside/"
(cd "$outside" && "$venv/bin/pip" install -q --disable-pip-version-check "$(ls engram_client-*.tar.gz)[test]")
# from tests/, so that the package imported is the one installed, not the source beside it
cd "$here/tests"
exec "$venv/bin/pytest" -q -p no:cacheprovider .
