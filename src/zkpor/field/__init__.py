"""Layer 1, arithmetic: the Goldilocks field p = 2^64 - 2^32 + 1 and its quadratic extension.

Modules (import the one you need; this package imports nothing, so that ``pure`` stays usable
without numpy and numba):

* ``pure``: pure-Python field and extension arithmetic (``Ext``), polynomial helpers for verifiers.
* ``goldilocks``: base-field operations on numpy uint64 arrays of any shape.
* ``extension``: extension-field arrays of shape (..., 2), numba scalar helpers for kernels.
* ``ntt``: NTT / inverse NTT, coset LDE and coset evaluation of many columns at once.
* ``poly``: evaluation at an extension point (from coefficients or from coset evaluations).
* ``scalar`` and ``llvm_ops``: scalar numba functions for other kernels (``llvm_ops`` compiles
  several times faster inside large kernels; same results).
* ``randomness``: uniform elements from a CSPRNG (AES-256-CTR) on all threads, for blinding.
* ``parallel``: the thread pool the kernels share (``set_num_threads``).
"""
