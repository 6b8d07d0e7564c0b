"""A round's inputs (and, later, outputs): the DESIGN's layer 6.

- ``config``: round.toml — round id, snapshot time, assets (decimals, bit bounds), USD prices, and the
  no-wrap rule for the solvency AIR's net-value sum.
- ``users``: the streaming, strictly validating loader of users.csv / users.jsonl into uint64 arrays
  (``users_kernels`` holds its numba kernels); ``users_writer`` writes those files back.
- ``net_value``: exact per-user net values and per-asset totals, the way the AIR computes them.
- ``directory``: a round directory (round.toml + one users file) loaded as a whole.
- ``generate``: the synthetic exchange behind ``zkpor generate``; ``summary``: figures for ``zkpor check``.
- ``decimal_text``: exact decimal text <-> integers.

Nothing is imported here, so importing one module (say, the history store) does not load numba.
"""
