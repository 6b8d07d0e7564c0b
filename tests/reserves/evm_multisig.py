"""A minimal multisig-owner wallet assembled from raw EVM opcodes (no compiler needed): it answers the
Safe interface's `getOwners()` and `getThreshold()`, and its deployer replaces owners and threshold with
`setOwners(threshold, n, owner_1 … owner_n)` (flat calldata), as a Safe's owner changes would.

Storage: slot 0 = deployer, 1 = threshold, 2 = owner count n, 3 … 3+n-1 = owners.
"""

from __future__ import annotations

from zkpor.reserves.hashing import keccak256

from .evm_token import RETURN_WORD, assemble, dispatch, with_constructor

GET_OWNERS = 0xA0E67E2B
GET_THRESHOLD = 0xE75235B8
SET_OWNERS = int.from_bytes(keccak256(b"setOwners(uint256,uint256,address[])")[:4], "big")


def _loop(name: str, body: list) -> list:
    """`for i in range(n)` over stack [n, i] (i on top), running `body` with that stack; leaves [n, i]."""
    return [
        ("LABEL", name),
        "JUMPDEST",
        "DUP2",
        "DUP2",
        "LT",
        "ISZERO",
        ("PUSHLABEL", name + "_done"),
        "JUMPI",
        *body,
        ("PUSH", 1, 1),
        "ADD",
        ("PUSHLABEL", name),
        "JUMP",
        ("LABEL", name + "_done"),
        "JUMPDEST",
    ]


RUNTIME = assemble(
    [
        *dispatch([(GET_THRESHOLD, "threshold"), (GET_OWNERS, "owners"), (SET_OWNERS, "set")]),
        # getThreshold(): one word
        ("LABEL", "threshold"),
        "JUMPDEST",
        ("PUSH", 1, 1),
        "SLOAD",
        *RETURN_WORD,
        # getOwners(): ABI address[] = offset 0x20, length n, n words
        ("LABEL", "owners"),
        "JUMPDEST",
        ("PUSH", 1, 0x20),
        ("PUSH", 1, 0),
        "MSTORE",
        ("PUSH", 1, 2),
        "SLOAD",
        "DUP1",
        ("PUSH", 1, 0x20),
        "MSTORE",
        ("PUSH", 1, 0),
        *_loop(
            "read",
            [
                "DUP1",
                ("PUSH", 1, 3),
                "ADD",
                "SLOAD",  # owner i
                "DUP2",
                ("PUSH", 1, 0x20),
                "MUL",
                ("PUSH", 1, 0x40),
                "ADD",
                "MSTORE",  # memory[0x40 + 32 i] = owner i
            ],
        ),
        "POP",
        ("PUSH", 1, 0x20),
        "MUL",
        ("PUSH", 1, 0x40),
        "ADD",
        ("PUSH", 1, 0),
        "RETURN",
        # setOwners(threshold, n, owners…): the deployer only
        ("LABEL", "set"),
        "JUMPDEST",
        "CALLER",
        ("PUSH", 1, 0),
        "SLOAD",
        "EQ",
        "ISZERO",
        ("PUSHLABEL", "fail"),
        "JUMPI",
        ("PUSH", 1, 4),
        "CALLDATALOAD",
        ("PUSH", 1, 1),
        "SSTORE",
        ("PUSH", 1, 36),
        "CALLDATALOAD",
        "DUP1",
        ("PUSH", 1, 2),
        "SSTORE",
        ("PUSH", 1, 0),
        *_loop(
            "write",
            [
                "DUP1",
                ("PUSH", 1, 0x20),
                "MUL",
                ("PUSH", 1, 68),
                "ADD",
                "CALLDATALOAD",  # owner i
                "DUP2",
                ("PUSH", 1, 3),
                "ADD",
                "SSTORE",
            ],
        ),
        "STOP",
    ]
)


def deploy_code() -> bytes:
    """Creation code: remember the deployer (slot 0), return the runtime."""
    return with_constructor(["CALLER", ("PUSH", 1, 0), "SSTORE"], RUNTIME)


def set_owners_data(threshold: int, owners: list[str]) -> str:
    words = [threshold, len(owners), *(int(owner, 16) for owner in owners)]
    return "0x" + SET_OWNERS.to_bytes(4, "big").hex() + "".join(w.to_bytes(32, "big").hex() for w in words)


def storage(deployer: str, threshold: int, owners: list[str]) -> dict[int, int]:
    """The slots of a wallet in that state (for placing the wallet at a given address in a test node)."""
    slots = {0: int(deployer, 16), 1: threshold, 2: len(owners)}
    slots.update({3 + i: int(owner, 16) for i, owner in enumerate(owners)})
    return slots
