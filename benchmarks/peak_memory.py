"""This process's own peak resident memory, for the benchmarks' figures.

VmHWM, not `resource.getrusage(...).ru_maxrss`: Linux carries ru_maxrss over exec from the parent, so
a benchmark started by a process that had just generated a million users reported that process's
peak as its own (the "650 MB" verify at 2^20 users was 187 MB, a98bf8e)."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (not Linux?)")
