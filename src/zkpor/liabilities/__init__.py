"""Layer 4, liabilities: the solvency AIR, batches of users, the top tree and inclusion proofs."""
