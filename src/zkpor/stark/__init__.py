"""Layer 3, the STARK proof system: a general AIR framework, prover and verifier over Goldilocks.

Nothing here knows about exchanges; the solvency statement is one `Air` built on top of it.

- `air`         the `Air` API: trace layout, constraints, assertions, periodic columns, lookups
- `algebra`     column vectors with operators, so one constraint definition serves prover and verifier
- `params`      `ProofOptions` and the security estimate
- `trace`       `TraceTable`, zero-knowledge randomisation, low-degree extension and commitment
- `composition` constraint quotients and the (randomised) composition polynomial
- `deep`, `fri` DEEP composition and the FRI low-degree test
- `proof`       the versioned binary proof format and its strict parser
- `prover`, `verifier`
"""
