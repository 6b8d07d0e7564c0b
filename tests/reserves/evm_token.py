"""A minimal ERC-20 (balanceOf + transfer) assembled from raw EVM opcodes, so tests need no compiler.

Storage slot = holder address, value = balance; the deployer gets the whole supply.
"""

from __future__ import annotations

OPS = {
    "STOP": 0x00,
    "ADD": 0x01,
    "MUL": 0x02,
    "SUB": 0x03,
    "LT": 0x10,
    "EQ": 0x14,
    "ISZERO": 0x15,
    "SHR": 0x1C,
    "CALLER": 0x33,
    "CALLDATALOAD": 0x35,
    "CODECOPY": 0x39,
    "POP": 0x50,
    "MSTORE": 0x52,
    "SLOAD": 0x54,
    "SSTORE": 0x55,
    "JUMP": 0x56,
    "JUMPI": 0x57,
    "JUMPDEST": 0x5B,
    "DUP1": 0x80,
    "DUP2": 0x81,
    "DUP3": 0x82,
    "SWAP1": 0x90,
    "RETURN": 0xF3,
    "REVERT": 0xFD,
}


def assemble(program: list) -> bytes:
    """Items: opcode names, ("PUSH", n_bytes, value), ("LABEL", name), ("PUSHLABEL", name) (2 bytes)."""
    labels, size = {}, 0
    for item in program:
        if isinstance(item, tuple) and item[0] == "LABEL":
            labels[item[1]] = size
        else:
            size += 1 + (
                item[1]
                if isinstance(item, tuple) and item[0] == "PUSH"
                else 2
                if isinstance(item, tuple)
                else 0
            )
    code = bytearray()
    for item in program:
        if isinstance(item, str):
            code.append(OPS[item])
        elif item[0] == "PUSH":
            code += bytes([0x5F + item[1]]) + item[2].to_bytes(item[1], "big")
        elif item[0] == "PUSHLABEL":
            code += b"\x61" + labels[item[1]].to_bytes(2, "big")
    return bytes(code)


def dispatch(routes: list[tuple[int, str]]) -> list:
    """Jump to the label of the call's 4-byte selector (left on the stack); revert at label "fail"."""
    load = [("PUSH", 1, 0), "CALLDATALOAD", ("PUSH", 1, 0xE0), "SHR"]
    jumps = [
        op for sel, label in routes for op in ("DUP1", ("PUSH", 4, sel), "EQ", ("PUSHLABEL", label), "JUMPI")
    ]
    return [*load, *jumps, ("LABEL", "fail"), "JUMPDEST", ("PUSH", 1, 0), "DUP1", "REVERT"]


RETURN_WORD = [("PUSH", 1, 0), "MSTORE", ("PUSH", 1, 32), ("PUSH", 1, 0), "RETURN"]  # return the top word


RUNTIME = assemble(
    [
        *dispatch([(0x70A08231, "balanceOf"), (0xA9059CBB, "transfer")]),
        ("LABEL", "balanceOf"),
        "JUMPDEST",
        ("PUSH", 1, 4),
        "CALLDATALOAD",
        "SLOAD",
        *RETURN_WORD,
        ("LABEL", "transfer"),
        "JUMPDEST",
        "CALLER",
        "SLOAD",
        ("PUSH", 1, 36),
        "CALLDATALOAD",  # [sel, bal, amount]
        "DUP1",
        "DUP3",
        "LT",
        ("PUSHLABEL", "fail"),
        "JUMPI",  # bal < amount -> revert
        "DUP2",
        "DUP2",
        "SWAP1",
        "SUB",
        "CALLER",
        "SSTORE",  # balance[caller] = bal - amount
        ("PUSH", 1, 4),
        "CALLDATALOAD",
        "DUP1",
        "SLOAD",
        "DUP3",
        "ADD",
        "SWAP1",
        "SSTORE",  # balance[to] += amount
        ("PUSH", 1, 1),
        ("PUSH", 1, 0),
        "MSTORE",
        ("PUSH", 1, 32),
        ("PUSH", 1, 0),
        "RETURN",
    ]
)


def with_constructor(prelude: list, runtime: bytes) -> bytes:
    """Creation code: run `prelude` (e.g. initial storage writes), then return `runtime` as the code."""

    def constructor(offset: int) -> bytes:
        return assemble(
            [
                *prelude,
                ("PUSH", 2, len(runtime)),
                ("PUSH", 2, offset),
                ("PUSH", 1, 0),
                "CODECOPY",
                ("PUSH", 2, len(runtime)),
                ("PUSH", 1, 0),
                "RETURN",
            ]
        )

    return constructor(len(constructor(0))) + runtime  # the runtime starts where the constructor ends


def deploy_code(supply: int) -> bytes:
    return with_constructor([("PUSH", 32, supply), "CALLER", "SSTORE"], RUNTIME)


def transfer_data(to: bytes, amount: int) -> str:
    return "0x" + (bytes.fromhex("a9059cbb") + to.rjust(32, b"\x00") + amount.to_bytes(32, "big")).hex()
