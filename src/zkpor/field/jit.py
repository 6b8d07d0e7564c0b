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

from collections.abc import Callable
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
