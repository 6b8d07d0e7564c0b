"""Reusable constraint gadgets (hash permutations and the like) that AIRs compose."""
