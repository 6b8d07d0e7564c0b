"""Layer 1, arithmetic: the Goldilocks field p = 2^64 - 2^32 + 1 and its quadratic extension."""
