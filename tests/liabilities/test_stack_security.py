"""The security a round proof's stack states: each level's (batch, inner, top) and the weakest,
which must be the fewest conjectured and the fewest proven bits of any level."""

from __future__ import annotations

from zkpor.liabilities.round_proof import profile_options
from zkpor.liabilities.round_tree import tree_options
from zkpor.stark.domain import committed_sizes
from zkpor.stark.params import SecurityLevel, security_level


def test_the_weakest_level_has_the_fewest_conjectured_and_proven_bits() -> None:
    """The default stack's weakest level, and a stack where `min` (conjectured bits first) would
    hide the level with the fewest proven bits: a top with one conjectured bit more than the
    batches but far fewer proven bits (as the defaults had, 102/57 against the batches' 100/59)."""
    tree = tree_options(profile_options("conjectured"))
    n = 1 << 16
    levels = [security_level(o, *committed_sizes(n, o)) for o in (tree.batch, tree.inner, tree.top)]
    weakest = SecurityLevel.weakest(levels)
    assert weakest.conjectured_bits == min(level.conjectured_bits for level in levels)
    assert weakest.proven_bits == min(level.proven_bits for level in levels)
    batch, top = SecurityLevel(100, 59, 48), SecurityLevel(101, 40, 30)
    assert min(batch, top).proven_bits == 59  # what `min` said
    assert SecurityLevel.weakest([batch, top]) == SecurityLevel(100, 40, 30)


def test_weakest_takes_the_proven_bounds_of_one_level() -> None:
    a, b = SecurityLevel(120, 80, 40), SecurityLevel(100, 40, 80)
    assert SecurityLevel.weakest([a, b]) == SecurityLevel(100, 80, 40)  # proven 80: each level has 80
    assert SecurityLevel.weakest([a]) == a
