"""Committed polynomial columns: zero-knowledge randomisation, LDE, commitment, evaluation.

Every committed matrix (main trace, aux trace, quotient chunks) is a set of base-field polynomials
of degree < D, kept as coefficients (for out-of-domain evaluation) and as evaluations on the LDE
coset, column-major (columns, N): the layout the NTT writes, the Merkle tree hashes (16 rows at a
time in vector lanes, see `hash.blake3_columns`), and constraint evaluation and DEEP read as
column vectors, so the LDE is never transposed. Only this one copy of the LDE is kept.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field import ntt, poly
from zkpor.field.extension import Ext
from zkpor.field.randomness import fill_uniform_rows, uniform_elements
from zkpor.stark.commitment import RowCommitment, commit_rows
from zkpor.stark.domain import ProofDomain
from zkpor.stark.phases import phase


def random_field_matrix(shape: tuple[int, ...]) -> np.ndarray:
    """Uniform field elements from a CSPRNG keyed by `secrets` (these values hide the witness):
    `field.randomness`, on all threads."""
    return uniform_elements(shape)


class _LdeBuffers:
    """LDE (and coefficient) matrices of finished proofs, kept for the next proofs.

    A new matrix is fresh pages that the kernel zeroes before the NTT writes them: 1.2 GB for an
    8,192-user batch's main trace, and `clear_page` was a quarter of the CPU samples of a process
    proving batches (perf). A process proving batch after batch reuses them instead. A round with
    its tree alternates two sets of shapes, the batches' and the nodes' (a node of the round
    proof's tree among the batches): a request is served by a kept matrix of its shape, or by the
    front of one up to twice its size (a view, lent), or else by fresh pages, the other shapes'
    matrices staying kept for their next proof, up to `KEPT_BYTES` in all (the oldest go first).
    Until b1bf6be a miss dropped every kept matrix: with the tree's batches at blowup 2 each
    level-1 node then left the next batch nothing to reuse, 22 % of a 2^17-user round's CPU."""

    # matrices kept: a proof's 3 LDEs (main, aux, quotient), with ZK 2 coefficient matrices, the
    # trace the caller gives back (`give_trace`), and main's and aux's over a larger evaluation coset,
    # for each of the two sets of shapes a round alternates
    LIMIT = 16
    # Both sets fit: a tree's batch (8,192 users, blowup 2) keeps 1.45 GB, a 2^16-row node 1.4 GB.
    KEPT_BYTES = 3 << 30
    # a kept matrix serves a request of another shape if at most this many times its size: a
    # larger waste would raise the peak
    FIT = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: list[np.ndarray] = []
        self._lent: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()

    def take(self, shape: tuple[int, int], *, fit: bool = True) -> np.ndarray | None:
        """A kept matrix of this shape, else (with `fit`) the front of the smallest kept one that
        holds it and is at most `FIT` times its size, as a C-contiguous view; else None."""
        with self._lock:
            for i, matrix in enumerate(self._kept):
                if matrix.shape == shape:
                    return self._kept.pop(i)
            fitting = self._fitting(shape)
            if fit and fitting:
                owner = min(fitting, key=lambda m: m.size)
                self._kept = [m for m in self._kept if m is not owner]
                self._lent[id(owner)] = owner
                return owner.reshape(-1)[: shape[0] * shape[1]].reshape(shape)
        return None

    def _fitting(self, shape: tuple[int, int]) -> list[np.ndarray]:
        size = shape[0] * shape[1]
        return [m for m in self._kept if m.flags.c_contiguous and size <= m.size <= self.FIT * size]

    def give(self, matrix: np.ndarray) -> None:
        """A finished proof's matrix (the caller gives up every reference to it); a lent view
        gives back the whole matrix it is the front of."""
        with self._lock:
            owner = matrix.base
            if owner is not None and self._lent.get(id(owner)) is owner:
                del self._lent[id(owner)]
                matrix = owner
            self._kept.append(matrix)
            while len(self._kept) > self.LIMIT or sum(m.nbytes for m in self._kept) > self.KEPT_BYTES:
                del self._kept[0]


_lde_buffers = _LdeBuffers()


def zeroed_trace(shape: tuple[int, int]) -> np.ndarray:
    """A zeroed uint64 matrix for the next proof's trace: a trace given back (`give_trace`) and
    cleared, or a new one. A new trace is fresh pages, faulted and zeroed by the kernel as it is
    written (~0.07 CPU-s for 156 MB with 4 KB pages); clearing a kept one streams it once (~0.01).
    Another shape's kept matrices stay (they are the next proof's LDEs)."""
    kept = _lde_buffers.take(shape, fit=False)
    if kept is None:
        return np.zeros(shape, dtype=np.uint64)
    kept.fill(0)
    return kept


def fault_in_trace(shape: tuple[int, int]) -> None:
    """A trace matrix for the next `zeroed_trace`, its pages faulted in now (by a thread with
    nothing else to do: numpy's fill runs without the GIL)."""
    trace = np.empty(shape, dtype=np.uint64)
    trace.fill(0)
    give_trace(trace)


def give_trace(trace: np.ndarray) -> None:
    """A proven trace back for `zeroed_trace`, with the LDEs: dropped with them when the next proof
    is of another shape. The caller gives up every reference to it."""
    if trace.dtype == np.uint64 and trace.ndim == 2 and trace.base is None and trace.flags.c_contiguous:
        _lde_buffers.give(trace)


def recycle(polys: CommittedPolys, coefficients: bool) -> None:
    """Give a finished proof's LDE matrix back for the next proof's LDE, and with `coefficients`
    its coefficient matrix too (with zero knowledge `trace_coefficients` takes one); the caller
    must not use `polys` afterwards."""
    _lde_buffers.give(polys.columns)
    if coefficients:
        _lde_buffers.give(polys.coefficients)


@dataclass
class CommittedPolys:
    coefficients: np.ndarray  # (columns, C): D coefficients, zeros up to the power of two C ≥ D
    commitment: RowCommitment
    degree_bound: int  # D (checked: the coefficients from it on are zero), or C
    # The LDE over the evaluation coset (columns, E) when it is larger than the committed one
    # (`ProofDomain.evaluation_size`), until constraint evaluation is done with it.
    evaluation: np.ndarray | None = None

    @property
    def width(self) -> int:
        return self.coefficients.shape[0]

    @property
    def columns(self) -> np.ndarray:
        """The LDE, column-major (columns, N): entry [c, i] is column c at point g·ω_N^i."""
        return self.commitment.tree.matrix

    @property
    def evaluation_columns(self) -> np.ndarray:
        """The columns over the evaluation coset g·⟨ω_E⟩ (columns, E), which constraint evaluation
        reads: the committed LDE itself when E = N."""
        return self.columns if self.evaluation is None else self.evaluation

    def release_evaluation(self) -> None:
        """Give the evaluation coset's LDE back for the next proof's (it is only read before the
        quotient is committed)."""
        if self.evaluation is not None:
            _lde_buffers.give(self.evaluation)
            self.evaluation = None

    def evaluate(self, point: Ext, rows: list[int] | None = None) -> list[Ext]:
        """Every column's (or the `rows`') value at `point`, from its D coefficients."""
        return poly.evaluate_at_ext(self.coefficients, point, rows, self.degree_bound)


def trace_coefficients(columns: np.ndarray, domain: ProofDomain, zero_knowledge: bool) -> np.ndarray:
    """Interpolate trace columns (c, n); with zero knowledge, add Z_H(X)·ρ(X) = (X^n − 1)·ρ(X) for a
    fresh uniform ρ of degree < r (`domain.random_coefficients`). The result equals the trace on H,
    has degree < D = n + r, and its values at any r points outside H are uniform: coefficients
    [t − ρ ‖ ρ ‖ 0] in a (c, C) matrix (`domain.coefficient_width`).

    ρ is drawn straight into its place, row by row on all threads, and each thread subtracts its row
    while it is in cache (`fill_uniform_rows`); t is interpolated straight into the lower half (no
    temporaries: their fresh pages cost more than the arithmetic)."""
    if not zero_knowledge:
        return ntt.intt(columns)
    width, n = columns.shape
    r, shape = domain.random_coefficients, (width, domain.coefficient_width)
    out = _lde_buffers.take(shape)
    if out is None:
        out = np.empty(shape, dtype=np.uint64)
    ntt.intt(columns, out=out[:, :n])

    def subtract(row: int) -> None:
        gl.sub(out[row, :r], out[row, n : n + r], out=out[row, :r])
        out[row, n + r :] = 0

    fill_uniform_rows(out[:, n : n + r], after=subtract)
    return out


def commit_coefficients(
    coefficients: np.ndarray,
    domain: ProofDomain,
    salted: bool,
    hasher: str,
    *,
    kept_matrices: bool = True,
    evaluated: bool = False,
) -> CommittedPolys:
    """Extend and commit. With `kept_matrices` (a proof's, given back when it ends) the LDE is written
    into a finished proof's matrix when one fits (`_LdeBuffers.take`); without (a commitment held
    longer, e.g. a tree level's program columns), into fresh pages, leaving the kept ones alone.
    With `evaluated` (columns the constraints read) and an evaluation coset larger than the LDE,
    the columns are extended over the E points and every (E/N)-th is committed: one transform."""
    width = coefficients.shape[1]
    stride = domain.evaluation_stride if evaluated else 1
    with phase("LDE"):
        take = _lde_buffers.take if kept_matrices else (lambda shape: None)
        extended = take((coefficients.shape[0], domain.lde_size * stride))
        # With zero knowledge (C = 2n, D = n + r) the LDE is transformed from the n lowest
        # coefficients, the r above added apart (`ntt.coset_evaluate`). Zeros from D on are checked,
        # not assumed (10 ms a batch): the LDE is of whatever polynomials the caller gives.
        degree_bound = domain.degree_bound
        if degree_bound >= width or coefficients[:, degree_bound:].any():
            degree_bound = width
        extended = ntt.coset_evaluate(
            coefficients, domain.lde_size * stride // width, ntt.GENERATOR, out=extended,
            degree_bound=degree_bound,
        )  # fmt: skip
        columns, evaluation = extended, None
        if stride > 1:  # g·⟨ω_N⟩ is every (E/N)-th point of g·⟨ω_E⟩
            evaluation = extended
            columns = take((coefficients.shape[0], domain.lde_size))
            if columns is None:
                columns = np.empty((coefficients.shape[0], domain.lde_size), dtype=np.uint64)
            np.copyto(columns, extended[:, ::stride])
    with phase("Merkle commit"):
        commitment = commit_rows(columns, salted=salted, hasher=hasher, column_major=True)
    # Out-of-domain values read the same checked bound: D, or the whole width for polynomials above
    # it (a test's cheating prover, whose values must still be its polynomials' own).
    return CommittedPolys(coefficients, commitment, degree_bound, evaluation)
