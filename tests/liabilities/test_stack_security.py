"""The security a round proof's stack states: each level's (batch, inner, top) and the weakest,
which must be the fewest conjectured and the fewest proven bits of any level."""

from __future__ import annotations

from zkpor.liabilities.round_proof import profile_options
from zkpor.liabilities.round_tree import (
    IN_CIRCUIT_BATCH_BLOWUP,
    IN_CIRCUIT_GRINDING_BITS,
    LEAST_DISTINCT_DRAW_CHANCE,
    fit_batches,
    tree_options,
)
from zkpor.stark.domain import committed_sizes
from zkpor.stark.params import SecurityLevel, security_level
from zkpor.stark.statement import distinct_draw_chance


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


def test_tree_batches_trade_grinding_for_queries_at_the_same_conjectured_bits() -> None:
    """Batches for the tree (Poseidon2: a grinding try is a permutation) grind at most
    IN_CIRCUIT_GRINDING_BITS and take the queries that keep the profile's conjectured bits at their
    blowup (IN_CIRCUIT_BATCH_BLOWUP; the queries are counted for the least a query is worth at it,
    so a real domain may give a bit more); a round of one batch (BLAKE3, no tree) keeps the
    profile's own split."""
    profile = profile_options("conjectured")
    tree = tree_options(profile)
    n = 1 << 16

    def level(options):
        return security_level(options, *committed_sizes(n, options))

    assert tree.batch.hasher == "poseidon2"
    assert tree.batch.grinding_bits <= IN_CIRCUIT_GRINDING_BITS < profile.grinding_bits
    assert tree.batch.num_queries > profile.num_queries
    assert tree.batch.blowup == IN_CIRCUIT_BATCH_BLOWUP < profile.blowup
    assert level(tree.batch).conjectured_bits >= level(profile).conjectured_bits == 100
    assert tree.leaf_options(1) == profile


def test_small_batches_for_the_tree_are_committed_at_blowup_4() -> None:
    """85 distinct query draws from a small LDE repeat too often (`fit_batches`): a batch whose draw
    would repeat more often than not takes blowup 4 and its queries, at the same conjectured bits;
    the other levels are untouched. So does a round whose only node is the top (at most four
    batches), whose program would double to verify 85-query children."""
    tree = tree_options(profile_options("conjectured"))
    for rows in (1 << 11, 1 << 13, 1 << 16):  # 256 users of 22 assets and more
        assert fit_batches(tree, rows, 5) == tree
    assert fit_batches(tree, 1 << 16, 4).batch == fit_batches(tree, 1 << 10, 5).batch
    for rows in (1 << 8, 1 << 10):
        small = fit_batches(tree, rows, 5)
        assert (small.batch.blowup, small.batch.num_queries, small.batch.grinding_bits) == (4, 42, 18)
        assert (small.inner, small.top) == (tree.inner, tree.top)
        assert security_level(small.batch, *committed_sizes(rows, small.batch)).conjectured_bits >= 100
        lde = committed_sizes(rows, tree.batch)[1]
        assert distinct_draw_chance(lde, 85) < LEAST_DISTINCT_DRAW_CHANCE < distinct_draw_chance(lde * 2, 42)
