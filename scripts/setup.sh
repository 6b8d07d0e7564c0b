#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs zkpor (and, with --test, the test tools and the
# system packages the tests use). Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

python_bin="${PYTHON:-}"
if [[ -z "$python_bin" ]]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            python_bin="$candidate"; break
        fi
    done
fi
[[ -n "$python_bin" ]] || { echo "zkpor needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
    "$python_bin" -m venv .venv
fi
stamp=.venv/.zkpor-installed
extras=""
[[ $want_test == 1 ]] && extras="[test]"
if [[ ! -f "$stamp$extras" || pyproject.toml -nt "$stamp$extras" ]]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".$extras"
    touch "$stamp$extras"
fi

# Pango (and its FreeType backend) for WeasyPrint, which prints the published report.pdf, and the
# Liberation fonts the report's stylesheet names; a demo needs them as much as the tests do.
# Debian's packages, installed when run as root.
report_missing=()
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || report_missing+=(libpango-1.0-0 libpangoft2-1.0-0)
{ command -v fc-list >/dev/null && fc-list | grep -qi 'Liberation Sans'; } || report_missing+=(fonts-liberation)
if (( ${#report_missing[@]} )); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${report_missing[@]}" >/dev/null
    else
        echo "note: not root, cannot install ${report_missing[*]} (needed for report.pdf)" >&2
    fi
fi

if [[ $want_test == 1 ]]; then
    # >>> reserves: npm test tools (anvil, the local EVM node tests/reserves start) >>>
    if [[ ! -x tools/node_modules/.bin/anvil ]]; then
        if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
            echo "note: tools/ pins anvil for Linux x86-64 only; the anvil-backed reserves tests will be skipped" >&2
        elif command -v npm >/dev/null; then
            # --ignore-scripts: the binary ships in the platform package; nothing is downloaded at install.
            npm ci --prefix tools --no-audit --no-fund --ignore-scripts --loglevel=error
        else
            echo "note: npm not found; the anvil-backed reserves tests will be skipped" >&2
        fi
    fi
    # <<< reserves <<<
    # System packages the tests use, from Debian: a real PostgreSQL server (history store),
    # Chromium (pages and reports, driven by Playwright with its executable path set: Playwright's
    # own browser download is never used) and pdftoppm (report.pdf to PNG).
    missing=()
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v pdftoppm >/dev/null || missing+=(poppler-utils)
    if (( ${#missing[@]} )); then
        if [[ $(id -u) == 0 ]]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        else
            echo "note: not root, cannot install ${missing[*]}; the tests needing them will be skipped" >&2
        fi
    fi
fi
