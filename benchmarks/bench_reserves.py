"""Throughput of `verify_reserves`: rows per second on one and on two worker processes.

Usage: .venv/bin/python benchmarks/bench_reserves.py [ROWS]
Rows alternate BTC legacy (BIP-137), BTC BIP-322 P2WPKH, ETH EIP-191 and TRON signatures, each
address distinct, so every row is a full signature check.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reserves.csv"
        path.write_text("\n".join(make_rows(count)) + "\n")
        for workers in (1, 2):
            start = time.perf_counter()
            summary = verify_reserves(path, Path(tmp) / f"results-{workers}.csv", workers=workers)
            elapsed = time.perf_counter() - start
            assert summary.counts["verified"] == count, summary.counts
            print(f"workers={workers}: {count} rows in {elapsed:.2f} s = {count / elapsed:,.0f} rows/s")


if __name__ == "__main__":
    main()
