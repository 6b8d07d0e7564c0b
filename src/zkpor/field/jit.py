"""`njit` for zkpor's kernels: numba's, with kernels loaded from numba's cache more cheaply.

Before every load from its cache, numba refreshes its compiler's typing and lowering registries
(`numba.core.caching.Cache.load_overload`). The first refresh in a process imports and installs the
implementations of all the Python and numpy numba supports (~0.2 CPU-s, a fifth of `zkpor prove`'s
start-up); each later one scans them for new entries. Machine code loaded from the cache needs
none of that, only numba's runtime (NRT), which it links against. So a kernel decorated here loads
with the runtime initialised and nothing else; a kernel not in the cache compiles as before (numba's
compiler refreshes the registries itself before it compiles). Same machine code, same results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import numba
from numba.core.caching import FunctionCache
from numba.core.runtime import nrt


class _KernelCache(FunctionCache):
    """numba's cache of one function, loading without refreshing the compiler's registries."""

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        nrt.rtsys.initialize(target_context)  # what the refresh did that loaded code needs
        return self._load_overload(sig, target_context)


def njit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`numba.njit(**options)`; with `cache=True` the kernel loads from the cache as above."""
    decorate = numba.njit(**options)

    def kernel(function: Callable[..., Any]) -> Any:
        dispatcher = decorate(function)
        # Only numba's own file cache is swapped (a future numba with another keeps its own).
        if type(getattr(dispatcher, "_cache", None)) is FunctionCache:
            dispatcher._cache.__class__ = _KernelCache
        return dispatcher

    return kernel


def cached_signatures(kernel: Any) -> list[Any]:
    """The signatures of `kernel` that numba's cache holds for this machine and this source: those
    `kernel.compile(signature)` loads without compiling (none for a kernel not decorated here)."""
    cache = getattr(kernel, "_cache", None)
    if not isinstance(cache, _KernelCache):
        return []
    codegen = kernel.targetctx.codegen()
    return [key[0] for key in cache._cache_file._load_index() if key == cache._index_key(key[0], codegen)]


class Preloader:
    """Kernels loaded from numba's cache in a thread of its own, in the order given, while the
    caller's thread goes on (a command parsing its options, reading its inputs).

    Much of a load is LLVM's work in ctypes calls, which release the GIL, so the second core does
    it. A kernel the caller needs before it is loaded waits for numba's compiler lock and is then
    there; a kernel that cannot be loaded is left to load (or fail) where it is used, as without
    preloading. `stop` ends the thread after the kernel it is loading and returns what failed."""

    def __init__(self, kernels: Iterable[Any]) -> None:
        self._kernels = list(kernels)
        self._stopping = threading.Event()
        self.failure: str | None = None
        # A daemon thread, and `stop` before the process ends: no load is cut short mid-LLVM call.
        self._thread = threading.Thread(target=self._load, name="zkpor-kernel-loader", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        for kernel in self._kernels:
            if self._stopping.is_set():
                return
            try:
                for signature in cached_signatures(kernel):
                    kernel.compile(signature)
            except Exception as error:  # reported by `stop`; the caller's own call meets it again
                function = getattr(kernel, "py_func", kernel)
                name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', function)}"
                self.failure = f"{name}: {type(error).__name__}: {error}"
                return

    def stop(self) -> str | None:
        """Stop after the kernel being loaded; the failure (kernel: error), or None."""
        self._stopping.set()
        self._thread.join()
        return self.failure
