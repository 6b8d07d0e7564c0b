"""Where proving time goes: named phases, wall-clock and CPU seconds, recorded only when asked.

    with phases.recording() as times:       # a benchmark
        prove(...)
    times.seconds  # {"main trace: LDE + commit": (wall, cpu), ...}

The prover marks its steps with `with phases.phase("name"):`; outside `recording()` that costs one
context-variable lookup. CPU time is that of the thread running the phase and of the field pool's
threads working for it (`field.parallel.thread_cpu_seconds`): on a shared machine it shows the work
done even when the wall clock is stretched by other processes, and it stays each job's own when
several prove at once in threads of one process (their wall times then overlap). A thread started
for a job records into the same `recording()` when it runs in a copy of the caller's context
(`contextvars.copy_context().run`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from zkpor.field.parallel import thread_cpu_seconds


@dataclass
class PhaseTimes:
    seconds: dict[str, tuple[float, float]] = field(default_factory=dict)  # name → (wall, cpu)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, wall: float, cpu: float) -> None:
        with self._lock:  # jobs proving at once in threads add to the same recording
            old_wall, old_cpu = self.seconds.get(name, (0.0, 0.0))
            self.seconds[name] = (old_wall + wall, old_cpu + cpu)


_active: ContextVar[PhaseTimes | None] = ContextVar("zkpor_phase_times", default=None)


@contextmanager
def recording() -> Iterator[PhaseTimes]:
    """Record the phases run inside this block (nested recordings each see their own)."""
    times = PhaseTimes()
    token = _active.set(times)
    try:
        yield times
    finally:
        _active.reset(token)


@contextmanager
def phase(name: str) -> Iterator[None]:
    times = _active.get()
    if times is None:
        yield
        return
    wall, cpu = time.perf_counter(), thread_cpu_seconds()
    try:
        yield
    finally:
        times.add(name, time.perf_counter() - wall, thread_cpu_seconds() - cpu)
