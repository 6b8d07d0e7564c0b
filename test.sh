#!/usr/bin/env bash
# Sets zkpor and its test tools up from scratch, lints, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
