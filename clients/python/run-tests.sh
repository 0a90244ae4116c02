#!/usr/bin/env bash
# Installs engram-client into a fresh virtual environment (stubs generated from proto/ as it builds) and runs its
# tests against a server they start from target/quarkus-app. Called by PythonClientIT during `mvn verify`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ENGRAM_PYTHON_VENV:-$here/../../target/python-venv}"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$here[test]"
cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests
