"""The kernels a command's first proof or verification calls, in the order it first calls them.

`zkpor prove` and `zkpor verify` load them from numba's cache in a thread of their own while they
parse their options and read the round's inputs (`zkpor.field.jit.Preloader`, started by
`zkpor.cli.run`). A kernel missing here still loads where it is first used, only later;
tests/cli/test_kernel_preloading.py checks the lists against what the commands load.
Imported on demand: the command has imported these modules already.
"""

from __future__ import annotations

from typing import Any


def prove_kernels() -> list[Any]:
    """`zkpor prove`: the round's inputs, the users' assignment, then the first batch proof."""
    from zkpor.field import extension, goldilocks, ntt
    from zkpor.hash import blake3_columns, blake3_kernels, poseidon2_batch
    from zkpor.round import net_value, users_kernels
    from zkpor.stark import kernels, logup_kernel
    from zkpor.stark.gadgets import poseidon2_kernel

    return [
        users_kernels.parse_csv_lines,
        users_kernels.uid_hashes,
        users_kernels.first_duplicate_uid,
        net_value._first_negative_net_value,
        poseidon2_batch._count_noncanonical_range,
        poseidon2_batch._sponge_range,
        poseidon2_kernel.fill_sponge_range,
        poseidon2_kernel.fill_range,
        goldilocks._powers_kernel,
        ntt._bitrev_kernel,
        ntt._run_rows,
        goldilocks._elementwise_kernel,
        blake3_columns.hash_columns_range,
        extension._ext_kernel,
        goldilocks._batch_inv_kernel,
        extension._lincomb_kernel,
        kernels._exclusive_prefix_sum,
        kernels._row_sums_range,
        kernels._selected_range,
        poseidon2_kernel.combined_range,
        logup_kernel.combined_range,
        extension._ext_powers_kernel,
        extension._matvec_kernel,
        blake3_kernels.hash_rows_range,
        blake3_columns.grind_range,
    ]


def verify_kernels() -> list[Any]:
    """`zkpor verify`: the kernels of the STARK verifier's first checks."""
    from zkpor.field import extension, goldilocks, ntt

    return [
        goldilocks._powers_kernel,
        ntt._bitrev_kernel,
        ntt._run_rows,
        extension._ext_powers_kernel,
        extension._matvec_kernel,
    ]
