"""Layer 2, hashing: Poseidon2 over Goldilocks, BLAKE3, Merkle vector commitments, Fiat-Shamir.

Import the submodules directly. This package imports nothing heavy on its own, so the pure-Python
pieces a customer's verifier needs (`poseidon2`, `merkle_proof` with Poseidon2) load without numpy
or numba.
"""
