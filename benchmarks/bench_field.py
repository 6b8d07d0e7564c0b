"""Benchmark of layer 1 (Goldilocks arithmetic, NTT, LDE, extension field): prints a table.

    .venv/bin/python benchmarks/bench_field.py            # the figures of issue 3
    .venv/bin/python benchmarks/bench_field.py --quick    # smaller sizes, a few seconds

Times are the best of several runs (wall clock), so that a busy neighbour on a shared machine
inflates them less; the load average at the start is printed with them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable

import numba
import numpy as np
from numba import njit, prange

from zkpor.field import extension as ex
from zkpor.field import goldilocks as gl
from zkpor.field import ntt, parallel, poly
from zkpor.field.pure import Ext

ROWS: list[tuple[str, str, str, str]] = []


def best(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up: compilation or cache load, first-touch page faults
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms" if seconds < 10 else f"{seconds:9.2f} s "


def row(name: str, size: str, threads: int | str, seconds: float, rate: str = "") -> None:
    ROWS.append((name, size, str(threads), fmt_time(seconds) + ("   " + rate if rate else "")))
    print(f"  {name:<34} {size:<26} {threads!s:>3}  {fmt_time(seconds)}   {rate}", flush=True)


def per_second(count: float, seconds: float, unit: str) -> str:
    return f"{count / seconds / 1e6:8.1f} M{unit}/s"


# -- threading ---------------------------------------------------------------------------------


@njit(parallel=True, cache=True)
def _tiny_prange(out):
    for i in prange(out.size):
        out[i] = i


@njit(nogil=True, cache=True)
def _tiny_range(lo, hi, out):
    for i in range(lo, hi):
        out[i] = i


def threading_report(repeat: int) -> None:
    out = np.zeros(2, dtype=np.int64)
    _tiny_prange(out)
    print(
        f"CPUs: {os.cpu_count()}   numba {numba.__version__}: NUMBA_NUM_THREADS = "
        f"{numba.config.NUMBA_NUM_THREADS}, get_num_threads() = {numba.get_num_threads()}, "
        f"threading layer = {numba.threading_layer()}"
    )
    print(f"field kernels: thread pool of {parallel.num_threads()} (zkpor.field.parallel)")
    prange_launch = best(lambda: _tiny_prange(out), repeat * 200)
    pool_launch = best(lambda: parallel.parallel_ranges(_tiny_range, 2, out), repeat * 200)
    print(f"launch cost of a 2-thread parallel region: numba prange {prange_launch * 1e6:.1f} µs, "
          f"field thread pool {pool_launch * 1e6:.1f} µs")


# -- kernels -----------------------------------------------------------------------------------


def bench_kernels(quick: bool, columns: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    log_n = 16 if quick else 20
    n = 1 << log_n
    a = gl.random_elements(n, rng)
    b = gl.random_elements(n, rng)
    ea = ex.random_ext_elements(n, rng)
    eb = ex.random_ext_elements(n, rng)
    all_threads = parallel.num_threads()
    for threads in sorted({1, all_threads}):
        parallel.set_num_threads(threads)
        t = best(lambda: gl.mul(a, b), repeat)
        row("mul", f"2^{log_n}", threads, t, per_second(n, t, "mul"))
        t = best(lambda: gl.batch_inv(a), repeat)
        row("batch_inv", f"2^{log_n}", threads, t, per_second(n, t, "inv"))
        t = best(lambda: ex.ext_mul(ea, eb), repeat)
        row("ext_mul", f"2^{log_n}", threads, t, per_second(n, t, "mul"))
        t = best(lambda: ntt.ntt(a), repeat)
        row("ntt (one column)", f"2^{log_n}", threads, t)
        t = best(lambda: ntt.intt(a), repeat)
        row("intt (one column)", f"2^{log_n}", threads, t)
        t = best(lambda: ntt.coset_lde(a[: n >> 3], 8), repeat)
        row("coset_lde (one column), blowup 8", f"2^{log_n - 3} -> 2^{log_n}", threads, t)
    parallel.set_num_threads(all_threads)

    # the LDE of a trace: many columns at once, threads over columns
    log_trace = log_n - 3
    trace = gl.random_elements((columns, 1 << log_trace), rng)
    lde: dict[str, np.ndarray] = {}

    def run_lde() -> None:
        lde.clear()  # free the previous result first: 8 bytes x columns x 2^log_n each
        lde["matrix"] = ntt.coset_lde(trace, 8)

    t = best(run_lde, max(1, repeat // 3))
    cells = columns * (1 << log_n)
    name = f"coset_lde {columns} columns, blowup 8"
    row(name, f"2^{log_trace} -> 2^{log_n}", all_threads, t, per_second(cells, t, "cell"))
    coeffs = ex.random_ext_elements(columns, rng)
    t = best(lambda: ex.ext_linear_combination(lde["matrix"], coeffs), max(1, repeat // 3))
    name = f"ext_linear_combination {columns} cols"
    row(name, f"2^{log_n}", all_threads, t, per_second(cells, t, "cell"))
    lde.clear()

    z = Ext(0x1234_5678_9ABC_DEF0, 0x0FED_CBA9_8765_4321)
    coefficients = ntt.intt(trace)
    t = best(lambda: poly.evaluate_at_ext(coefficients, z), repeat)
    row(f"evaluate_at_ext {columns} columns", f"2^{log_trace}", all_threads, t)
    t = best(lambda: poly.barycentric_at_ext(trace, 1, z), repeat)
    row(f"barycentric_at_ext {columns} columns", f"2^{log_trace}", all_threads, t)


# -- compilation -------------------------------------------------------------------------------

_EXERCISE = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import numpy as np
    from zkpor.field import extension as ex, goldilocks as gl, ntt, poly
    t1 = time.perf_counter()
    a = np.arange(1, 65, dtype=np.uint64)
    gl.add(a, a); gl.mul(a, 3); gl.batch_inv(a); gl.pow(a, 5); gl.sum_mod(a); gl.dot(a, a); gl.powers(3, 9)
    e = ex.ext_from_base(a)
    ex.ext_mul(e, e); ex.ext_inv(e); ex.ext_pow(e, 3); ex.ext_linear_combination(a.reshape(8, 8), e[:8])
    ntt.ntt(a); ntt.intt(a); ntt.coset_lde(a, 4); ntt.coset_evaluate(a, 2); ntt.coset_intt(a)
    poly.evaluate_at_ext(a, ex.Ext(1, 2)); poly.barycentric_at_ext(a, 1, ex.Ext(1, 2))
    t2 = time.perf_counter()
    print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
    """
)


def bench_compile() -> None:
    with tempfile.TemporaryDirectory(prefix="zkpor-numba-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("first run (empty numba cache)", "second run (cached)"):
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-c", _EXERCISE], env=env, capture_output=True, text=True, check=True
            )
            total = time.perf_counter() - start
            imports, kernels = (float(v) for v in result.stdout.split())
            row(f"JIT: {label}", "all field kernels", "-", kernels)
            print(f"      (import {imports * 1e3:.0f} ms, whole process {total:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2^16 instead of 2^20, 20 columns")
    parser.add_argument("--columns", type=int, default=None, help="columns of the trace LDE (default 200)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is kept)")
    parser.add_argument("--no-compile", action="store_true", help="skip the JIT compilation timing")
    args = parser.parse_args()
    columns = args.columns or (20 if args.quick else 200)

    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    threading_report(args.repeat)
    print(f"\n  {'kernel':<34} {'size':<26} {'thr':>3}  {'best time':>12}")
    bench_kernels(args.quick, columns, args.repeat)
    if not args.no_compile:
        bench_compile()


if __name__ == "__main__":
    main()
