#!/usr/bin/env bash
# Sets zkpor up from scratch and runs the demo round. Extra arguments go to `zkpor demo`.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/zkpor demo "$@"
