"""LogUp auxiliary columns (Haböck, eprint 2022/1530), built from an AIR's `lookups()`.

For challenges β, γ and terms t with multiplicity m_t and fingerprint φ_t = Σ γ^i v_{t,i}:

    helper_t[i]  = m_t[i] / (β − φ_t[i])
    running[i]   = Σ_{j<i} Σ_t helper_t[j]          (so running[0] = 0)

The AIR constrains helper_t·(β − φ_t) = m_t and running[i+1] − running[i] = Σ_t helper_t[i] on
every row including the wrap from the last row to the first, which holds exactly when
Σ_i Σ_t m_t[i] / (β − φ_t[i]) = 0: the lookup (or multiset) relation, up to a ~n/|F| error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zkpor.field import extension as ext
from zkpor.field.extension import Ext
from zkpor.stark.air import Air, AirError, compress_values
from zkpor.stark.algebra import BaseVec, ExtVec, as_ext_array
from zkpor.stark.kernels import exclusive_prefix_sum


def periodic_rows(air: Air) -> list[BaseVec]:
    n = air.trace_length
    return [
        BaseVec(np.tile(np.asarray(column, dtype=np.uint64), n // len(column)))
        for column in air.periodic_columns()
    ]


def build_aux_trace(air: Air, trace: np.ndarray, challenges: Sequence[Ext]) -> np.ndarray:
    """The aux columns as base-field pairs: shape (2 · aux_width, n)."""
    beta, gamma = challenges
    n = air.trace_length
    rows = [BaseVec(column) for column in trace]
    periodic = periodic_rows(air)
    helpers = []
    for term in air.lookups():
        fingerprint = ExtVec.coerce(compress_values(list(term.values(rows, periodic)), gamma), n)
        denominator = ExtVec.coerce(beta, n) - fingerprint
        if np.any(np.all(denominator.values == 0, axis=1)):
            raise AirError(f"{air.name}: LogUp challenge β hit a fingerprint (probability ~n/2^128)")
        inverse = ExtVec(ext.ext_batch_inv(denominator.values))
        helpers.append(as_ext_array(inverse * term.multiplicity(rows, periodic), n))
    total = helpers[0]
    for helper in helpers[1:]:
        total = ext.ext_add(total, helper)
    running = np.stack([exclusive_prefix_sum(total[:, 0]), exclusive_prefix_sum(total[:, 1])], axis=-1)
    columns = helpers + [running]
    out = np.empty((2 * len(columns), n), dtype=np.uint64)
    for j, column in enumerate(columns):
        out[2 * j] = column[:, 0]
        out[2 * j + 1] = column[:, 1]
    return out
