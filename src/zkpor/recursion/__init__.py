"""Recursion, generic layer: straight-line programs over Goldilocks and their execution proofs.

Depends only on field, hash and stark; knows nothing about exchanges. See docs/recursion.md.

- `program`  the program model, `ProgramBuilder`, the interpreter, the encoding and digest
- `air`      the recursion AIR (Poseidon2 unit, arithmetic slots, bit decomposition, memory bus)
- `proving`  `prove_program`, `verify_program`
"""
