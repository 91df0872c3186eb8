#!/bin/bash
# Creates benchmarks/.venv-pykeen: CPU torch 2.13.0 and PyKEEN 1.11.1, for benchmarks/pykeen_kge.py.
#   bash benchmarks/setup_pykeen.sh
# Idempotent: an existing venv is reused and pip leaves what is already installed at these versions.
# torch is installed first, pinned (it resolves to the local CPU wheel; an unpinned torch pulls the
# CUDA packages), then PyKEEN with a constraints file that pins torch so pip cannot replace it.
# PyKEEN 1.11.1 requires torch>=2.0 and Python>=3.10. `benchmarks/.venv*/` is in .gitignore.
# Environment: PYTHON (default python3), VENV (default benchmarks/.venv-pykeen).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-benchmarks/.venv-pykeen}
TORCH_VERSION=2.13.0
PYKEEN_VERSION=1.11.1

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
constraints="$VENV/constraints.txt"
printf 'torch==%s\n' "$TORCH_VERSION" > "$constraints"
"$VENV/bin/pip" install "torch==$TORCH_VERSION"
"$VENV/bin/pip" install -c "$constraints" "pykeen==$PYKEEN_VERSION"
"$VENV/bin/python" -c 'import pykeen, torch; print("pykeen", pykeen.get_version(), "torch", torch.__version__)'
