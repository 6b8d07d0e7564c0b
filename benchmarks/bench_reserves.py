"""Throughput of `verify_reserves`: rows per second with one and with two worker processes.

Usage: .venv/bin/python benchmarks/bench_reserves.py [ROWS ...] [--workers 1 2] [--repeat 3]
Each run starts its own worker processes, as the `zkpor reserves` command does.

The file is a mixed one in OKX's 11-column layout with a totals section: rows cycle through eight
kinds — BTC legacy (BIP-137 P2PKH), BTC BIP-322 P2WPKH, ETH EIP-191, USDT-TRC20 (TRON), SOL ed25519,
LTC P2SH-P2WPKH (`M…`), BCHN CashAddr and OKB-X1-USDT (USDT on X Layer, EIP-191) — so coin names go
through the coin-name map, each chain has one snapshot height, every address is distinct and every row
is a full signature check; the totals section is reconciled at the end. Each configuration runs
`--repeat` times (best and median are printed: other jobs on a shared machine only ever slow a run
down), with the CPU time per row of this process (reading, shipping and merging; and the checking
with one worker) and of the worker processes, and the cores other processes kept busy during each
run, so a slow run can be told from a busy machine.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import resource
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import coincurve
from nacl.signing import SigningKey

from zkpor.reserves import bip322, evm, tron
from zkpor.reserves.bitcoin import COINS, Address, message_digest
from zkpor.reserves.codecs import b58check_encode, b58encode, cashaddr_encode, compact_size, segwit_encode
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.hashing import hash160

MESSAGE = "I am an exchange address"
HEADER = (
    "coin,Network,Snapshot Height,address,amount,message,signature1,signature2,"
    "redeem script/ public key,EOA1,EOA2"
)
HEIGHTS = {"BTC": 880000, "ETH": 21000000, "TRON": 70000000, "SOL": 310000000, "LTC": 2800000,
           "BCH": 890000, "X Layer": 9000000}  # fmt: skip


def _legacy(key: coincurve.PrivateKey, coin: str, header: int) -> str:
    compact = key.sign_recoverable(message_digest(COINS[coin], MESSAGE), hasher=None)
    return base64.b64encode(bytes([header + compact[64]]) + compact[:64]).decode()


def _evm(key: coincurve.PrivateKey, digest: bytes) -> str:
    compact = key.sign_recoverable(digest, hasher=None)
    return "0x" + (compact[:64] + bytes([27 + compact[64]])).hex()


def _row(i: int) -> tuple[str, str, str, str, str]:
    """(coin, network, address, signature, public key) of row i."""
    seed = hashlib.sha256(i.to_bytes(8, "big")).digest()
    key = coincurve.PrivateKey(seed)
    pub = key.public_key.format()
    kind = i % 8
    if kind == 0:
        return "BTC", "BTC", b58check_encode(bytes([0]) + hash160(pub)), _legacy(key, "BTC", 31), ""
    if kind == 1:
        program = hash160(pub)
        txid = bip322.to_spend_txid(Address("p2wpkh", program).script_pubkey, MESSAGE)
        digest = bip322._bip143_digest(txid, b"\x76\xa9\x14" + program + b"\x88\xac", 1)
        items = [key.sign(digest, hasher=None) + b"\x01", pub]
        witness = compact_size(2) + b"".join(compact_size(len(x)) + x for x in items)
        return "BTC", "BTC", segwit_encode("bc", 0, program), base64.b64encode(witness).decode(), ""
    account = evm.address_of_key(key.public_key.format(compressed=False))
    if kind == 2:
        return (
            "ETH",
            "ETH",
            evm.to_checksum_address(account),
            _evm(key, evm.personal_digest(MESSAGE.encode())),
            "",
        )
    if kind == 3:
        address = tron.encode_address(account)
        return "USDT-TRC20", "TRON", address, _evm(key, tron.v2_digest(MESSAGE.encode())), ""
    if kind == 4:
        signer = SigningKey(seed)
        address = b58encode(bytes(signer.verify_key))
        return "SOL", "SOL", address, b58encode(signer.sign(MESSAGE.encode()).signature), ""
    if kind == 5:
        script_hash = hash160(b"\x00\x14" + hash160(pub))
        return "LTC", "LTC", b58check_encode(bytes([0x32]) + script_hash), _legacy(key, "LTC", 35), ""
    if kind == 6:
        return "BCHN", "BCH", cashaddr_encode("bitcoincash", 0, hash160(pub)), _legacy(key, "BCH", 31), ""
    digest = evm.personal_digest(MESSAGE.encode())
    return "OKB-X1-USDT", "X Layer", evm.to_checksum_address(account), _evm(key, digest), ""


def make_rows(count: int) -> list[str]:
    """A totals section agreeing with the rows (1.5 each), a blank line, then the address table."""
    rows = [_row(i) for i in range(count)]
    per_coin = Counter(coin for coin, *_ in rows)
    lines = ["coin,snapshot height,amount"]
    lines += [f"{coin},-,{n * 3 // 2}{'.5' if n % 2 else ''}" for coin, n in sorted(per_coin.items())]
    lines += ["", HEADER]
    for coin, network, address, signature, public_key in rows:
        lines.append(
            f"{coin},{network},{HEIGHTS[network]},{address},1.5,{MESSAGE},{signature},,{public_key},,"
        )
    return lines


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _others_cpu_seconds() -> dict[int, float]:
    """CPU seconds so far of each process outside this one's tree, from /proc (empty elsewhere).

    On a shared machine this is what tells a slow run from a busy machine. Processes that start and
    end within a run are missed, so it is a lower bound.
    """
    if not os.path.isdir("/proc"):
        return {}
    ticks, parents, cpu = os.sysconf("SC_CLK_TCK"), {}, {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            pid = int(entry.name)
            parents[pid], cpu[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
    ours = {os.getpid()}
    while grown := {pid for pid, parent in parents.items() if parent in ours} - ours:
        ours |= grown
    return {pid: seconds for pid, seconds in cpu.items() if pid not in ours}


class Run(NamedTuple):
    rate: float  # rows per second
    main_cpu: float  # µs of CPU per row in this process
    workers_cpu: float  # µs of CPU per row in the worker processes
    others: float  # cores that other processes kept busy meanwhile


def run(path: Path, out: Path, count: int, workers: int) -> Run:
    others, start = _others_cpu_seconds(), time.perf_counter()
    cpu, children = _cpu_seconds(), _cpu_seconds(resource.RUSAGE_CHILDREN)
    summary = verify_reserves(path, out, workers=workers)
    elapsed = time.perf_counter() - start
    cpu, children = _cpu_seconds() - cpu, _cpu_seconds(resource.RUSAGE_CHILDREN) - children
    others_after = _others_cpu_seconds()
    busy = sum(others_after[pid] - seconds for pid, seconds in others.items() if pid in others_after)
    assert summary.counts["verified"] == count, summary.counts
    assert all(entry["agrees"] for entry in summary.reconciliation), summary.reconciliation
    return Run(count / elapsed, cpu / count * 1e6, children / count * 1e6, busy / elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("rows", type=int, nargs="*", default=[20_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.rows:
            path = Path(tmp) / "reserves.csv"
            path.write_text("\n".join(make_rows(count)) + "\n")
            for workers in args.workers:
                runs = [run(path, Path(tmp) / "results.csv", count, workers) for _ in range(args.repeat)]
                rates = [r.rate for r in runs]
                print(
                    f"{count} rows, workers={workers}: best {max(rates):,.0f} rows/s, "
                    f"median {statistics.median(rates):,.0f} rows/s; CPU per row: this process "
                    f"{statistics.median(r.main_cpu for r in runs):.1f} µs, workers "
                    f"{statistics.median(r.workers_cpu for r in runs):.1f} µs; other processes used "
                    f"{', '.join(f'{r.others:.2f}' for r in runs)} cores",
                    flush=True,
                )


if __name__ == "__main__":
    main()
