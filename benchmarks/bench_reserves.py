"""Throughput of `verify_reserves`: rows per second with one and with two worker processes.

Usage: .venv/bin/python benchmarks/bench_reserves.py [ROWS ...] [--workers 1 2] [--repeat 3]
Each run starts its own worker processes, as the `zkpor reserves` command does.
Rows alternate BTC legacy (BIP-137), BTC BIP-322 P2WPKH, ETH EIP-191 and TRON signatures, each
address distinct, so every row is a full signature check. Each configuration runs `--repeat` times
(best and median are printed: other jobs on a shared machine only ever slow a run down), with the CPU
time per row of this process (reading, shipping and merging; and the checking with one worker) and of
the worker processes, and the cores other processes kept busy during each run, so a slow run can be
told from a busy machine.
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
from pathlib import Path
from typing import NamedTuple

import coincurve

from zkpor.reserves import bip322, evm, tron
from zkpor.reserves.bitcoin import COINS, Address, message_digest
from zkpor.reserves.codecs import b58check_encode, compact_size, segwit_encode
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.hashing import hash160

MESSAGE = "I am an exchange address"


def make_rows(count: int) -> list[str]:
    lines = ["coin,network,height,address,amount,message,signature"]
    for i in range(count):
        key = coincurve.PrivateKey(hashlib.sha256(i.to_bytes(8, "big")).digest())
        pub = key.public_key.format()
        kind = i % 4
        if kind == 0:
            compact = key.sign_recoverable(message_digest(COINS["BTC"], MESSAGE), hasher=None)
            sig = base64.b64encode(bytes([31 + compact[64]]) + compact[:64]).decode()
            address = b58check_encode(bytes([0]) + hash160(pub))
            lines.append(f"BTC,bitcoin,1,{address},1,{MESSAGE},{sig}")
        elif kind == 1:
            program = hash160(pub)
            txid = bip322.to_spend_txid(Address("p2wpkh", program).script_pubkey, MESSAGE)
            digest = bip322._bip143_digest(txid, b"\x76\xa9\x14" + program + b"\x88\xac", 1)
            items = [key.sign(digest, hasher=None) + b"\x01", pub]
            witness = compact_size(2) + b"".join(compact_size(len(x)) + x for x in items)
            sig = base64.b64encode(witness).decode()
            lines.append(f"BTC,bitcoin,1,{segwit_encode('bc', 0, program)},1,{MESSAGE},{sig}")
        else:
            digest = evm.personal_digest(MESSAGE.encode()) if kind == 2 else tron.v2_digest(MESSAGE.encode())
            compact = key.sign_recoverable(digest, hasher=None)
            sig = "0x" + (compact[:64] + bytes([27 + compact[64]])).hex()
            account = evm.address_of_key(key.public_key.format(compressed=False))
            address = evm.to_checksum_address(account) if kind == 2 else tron.encode_address(account)
            lines.append(f"{'ETH,ethereum' if kind == 2 else 'TRX,tron'},1,{address},1,{MESSAGE},{sig}")
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
