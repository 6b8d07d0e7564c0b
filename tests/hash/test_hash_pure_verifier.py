"""The verifier side runs without numpy and numba: checked in a subprocess where both are blocked."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from zkpor.hash.merkle import MerkleTree, SaltRng
from zkpor.hash.poseidon2 import P
from zkpor.hash.transcript import Transcript

_VERIFIER = """
import json, sys
sys.modules["numpy"] = None  # any import of numpy or numba now raises ImportError
sys.modules["numba"] = None
from zkpor.hash.merkle_proof import MultiProof, verify_multi
from zkpor.hash.transcript import Transcript
from zkpor.hash import poseidon2

case = json.loads(sys.stdin.read())
results = []
for c in case["openings"]:
    proof = MultiProof.from_bytes(bytes.fromhex(c["proof"]))
    args = (bytes.fromhex(c["root"]), c["n_rows"], c["indices"], c["rows"], c["salts"], proof, c["hasher"])
    results.append(verify_multi(*args))
    bad_rows = [[(c["rows"][0][0] + 1) % poseidon2.P] + c["rows"][0][1:]] + c["rows"][1:]
    results.append(not verify_multi(args[0], args[1], args[2], bad_rows, *args[4:]))
t = Transcript(b"pure")
results.append(t.check_grinding(case["nonce"], 8))
results.append(poseidon2.permute(list(range(12)))[0] == 0xF292AB67C0F14B03)
print(json.dumps(results))
"""


def test_verifier_needs_neither_numpy_nor_numba():
    openings = []
    m = np.random.default_rng(9).integers(0, P, size=(16, 3), dtype=np.uint64)
    for hasher in ("poseidon2", "blake3"):
        tree = MerkleTree.commit(m, hasher, salt_rng=SaltRng(seed=b"pure verifier test"))
        indices = [1, 7, 8]
        openings.append(
            {
                "root": tree.root.hex(),
                "n_rows": 16,
                "indices": indices,
                "rows": tree.rows(indices).tolist(),
                "salts": tree.salts(indices).tolist(),
                "proof": tree.open(indices).to_bytes().hex(),
                "hasher": hasher,
            }
        )
    nonce = Transcript(b"pure").grind(8)
    out = subprocess.run(
        [sys.executable, "-c", _VERIFIER],
        input=json.dumps({"openings": openings, "nonce": nonce}),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == [True] * 6
