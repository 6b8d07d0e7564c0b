"""The security a round proof's stack states: each level's (batch, inner, top) and the weakest,
which must be the fewest conjectured and the fewest proven bits of any level."""

from __future__ import annotations

from zkpor.liabilities.round_proof import profile_options
from zkpor.liabilities.round_tree import tree_options
from zkpor.stark.params import SecurityLevel, security_level


def test_the_weakest_level_has_the_fewest_conjectured_and_proven_bits() -> None:
    """The default stack: the batches have the fewest conjectured bits (100), the top the fewest
    proven (BLAKE3, blowup 8, 29 queries). `min` (conjectured first) would state the batches'
    59 proven bits for the whole stack."""
    tree = tree_options(profile_options("conjectured"))
    n = 1 << 16
    levels = {name: security_level(o, 2 * n if o.zero_knowledge else n)
              for name, o in (("batch", tree.batch), ("inner", tree.inner), ("top", tree.top))}  # fmt: skip
    weakest = SecurityLevel.weakest(levels.values())
    assert weakest.conjectured_bits == min(level.conjectured_bits for level in levels.values())
    assert weakest.proven_bits == min(level.proven_bits for level in levels.values())
    assert min(levels.values()).proven_bits > weakest.proven_bits  # what `min` said


def test_weakest_takes_the_proven_bounds_of_one_level() -> None:
    a, b = SecurityLevel(120, 80, 40), SecurityLevel(100, 40, 80)
    assert SecurityLevel.weakest([a, b]) == SecurityLevel(100, 80, 40)  # proven 80: each level has 80
    assert SecurityLevel.weakest([a]) == a
