"""`prove_round` / `verify_round` end to end, the batch assignment, and the prover's refusals."""

from __future__ import annotations

import hmac
import json
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from liabilities_testing import CHEAP, SMALL_BATCH, append_user_line, make_round, prove_small

from zkpor.errors import InputError, InterruptError, ZkporError
from zkpor.liabilities import encoding, round_proof
from zkpor.liabilities.assignment import (
    MAX_AUTO_BATCH_AGGREGATED,
    batch_members,
    choose_batch_shape,
    id_hashes_of,
    padding_id_hash,
    plan_batches,
    shuffle_slots,
)
from zkpor.liabilities.published import GlobalProof, digest_hex, top_filler, top_tree_levels
from zkpor.liabilities.round_proof import prove_round, top_tree, verify_round
from zkpor.liabilities.secret import load_secret
from zkpor.liabilities.store import InclusionStore, pack_balance_rows, unpack_balances
from zkpor.round.config import default_round_config
from zkpor.round.decimal_text import format_units
from zkpor.round.directory import load_round_inputs
from zkpor.round.net_value import asset_totals

USERS = 70  # three batches of 32 (26 padding users), so a 4-leaf top tree with one filler


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    directory = tmp_path_factory.mktemp("proven") / "round"
    secret = make_round(directory, USERS)
    prove_small(directory, secret)
    return directory, secret


def test_prove_then_verify_gives_the_exact_totals(proven: tuple[Path, bytes]) -> None:
    directory, _ = proven
    result = verify_round(directory, min_security_bits=0)
    users = load_round_inputs(directory).users
    assert result.totals == list(zip(asset_totals(users.equity), asset_totals(users.debt), strict=True))
    assert result.checked_against_round_toml and result.inputs_unchanged
    summary = json.loads((directory / "proof" / "summary.json").read_text())
    assert summary["users_rounded_up"] == 96 and summary["batch_count"] == 3
    btc = summary["assets"][0]
    assert btc["symbol"] == "BTC"
    equity, debt = result.totals[0]
    assert (btc["equity"], btc["net"]) == (format_units(equity, 8), format_units(equity - debt, 8))
    assert summary["proof_bytes"] == sum(p.stat().st_size for p in (directory / "proof/batches").iterdir())
    # CHEAP's 8 queries over a small batch's doubled LDE (rate (n + 18)/8n, ~2.9 bits a query: 23),
    # too few for the 2 grinding bits to count
    assert summary["security"] == {
        "conjectured_bits": 22,
        "proven_bits": 13,
        "list_decoding_bits": 13,
        "unique_decoding_bits": 8,
    }
    g = GlobalProof.from_json((directory / "proof/global.json").read_bytes(), "global.json")
    roots = [b.root for b in g.batches]
    expected_root = encoding.merkle_root([*roots, top_filler()])
    assert g.top_leaves == 4 and list(g.root) == expected_root and summary["root"] == digest_hex(g.root)
    assert sorted(os.listdir(directory / "proof")) == ["batches", "global.json", "summary.json"]
    assert sorted(os.listdir(directory / "private")) == ["inclusion.sqlite"], "prove removes its lock"


def test_every_user_lands_in_exactly_one_slot(proven: tuple[Path, bytes]) -> None:
    directory, secret = proven
    users = load_round_inputs(directory).users
    with InclusionStore(directory / "private/inclusion.sqlite", create=False) as store:
        places = {users.uid(r): store.user(users.uid(r), 22) for r in range(len(users))}
    assert all(p is not None for p in places.values())
    slots = {(p.batch, p.position) for p in places.values() if p is not None}
    assert len(slots) == USERS
    for row in (0, 33, 69):
        stored = places[users.uid(row)]
        assert stored is not None
        assert stored.equity == users.equity[row].tolist() and stored.debt == users.debt[row].tolist()
        assert stored.nonce == encoding.user_nonce(secret, "2024-06", users.uid(row))


@pytest.mark.parametrize("aggregate, largest", [(True, 16384), (False, 8192)])
def test_a_round_with_the_round_proof_chooses_larger_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aggregate: bool, largest: int
) -> None:
    """`prove_round` without --batch-size: up to 16,384 users a batch with the round proof, 8,192
    without (stopped once the shape is chosen: the choice itself is `choose_batch_shape`'s)."""
    chosen = []

    class ChosenError(Exception):
        pass

    def record(n_users, bits, batch_size, *, largest_auto):
        chosen.append((batch_size, largest_auto))
        raise ChosenError

    monkeypatch.setattr(round_proof, "choose_batch_shape", record)
    secret = make_round(tmp_path / "r", 40)
    with pytest.raises(ChosenError):
        round_proof.prove_round(tmp_path / "r", secret, aggregate=aggregate)
    assert chosen == [(None, largest)]


@pytest.mark.parametrize("batches", [1, 2, 3, 5, 128, 1221])
def test_the_top_tree_on_the_kernels_is_the_customers_pure_one(batches: int) -> None:
    """`round_proof.top_tree` (the prover, the auditor, export-user) and `published.top_tree_levels`
    (a customer's verifier, no numpy) give the same levels: padding, filler and node hashes."""
    rng = np.random.default_rng(batches)
    roots = [tuple(int(v) for v in row) for row in rng.integers(0, 2**63, size=(batches, 4), dtype=np.uint64)]
    assert top_tree(roots) == top_tree_levels(roots)


def test_the_shuffle_is_keyed_deterministic_and_spreads_padding() -> None:
    uids = [f"user-{i}".encode() for i in range(300)]
    first = shuffle_slots(b"k" * 32, "r1", uids, 512)
    assert np.array_equal(first, shuffle_slots(b"k" * 32, "r1", uids, 512))
    assert sorted(first.tolist()) == sorted([*range(300), *(-1 - k for k in range(212))])
    assert not np.array_equal(first, shuffle_slots(b"x" * 32, "r1", uids, 512)), "depends on the secret"
    assert not np.array_equal(first, shuffle_slots(b"k" * 32, "r2", uids, 512)), "depends on the round"
    padding_per_quarter = [(first[q * 128 : (q + 1) * 128] < 0).sum() for q in range(4)]
    assert min(padding_per_quarter) > 20, padding_per_quarter


def test_the_shuffle_orders_slots_by_the_documented_hmac_keys() -> None:
    uids = [f"user-{i}".encode() for i in range(300)]
    secret, message = b"k" * 32, b"zkpor-shuffle-v1\0r1\0"
    tags = [b"u" + uid for uid in uids] + [b"p" + k.to_bytes(8, "big") for k in range(212)]
    keys = [hmac.digest(secret, message + tag, "sha256")[:16] for tag in tags]
    who = [*range(300), *(-1 - k for k in range(212))]
    expected = [who[i] for i in sorted(range(512), key=lambda i: (keys[i], i))]
    assert shuffle_slots(secret, "r1", uids, 512).tolist() == expected


def test_keyed_hmac_equals_hmac_sha256() -> None:
    # RFC 4231 test cases 2 and 6 (a key longer than SHA-256's block is hashed first)
    assert encoding.KeyedHmac(b"Jefe").digest(b"what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    large = encoding.KeyedHmac(b"\xaa" * 131, b"Test Using Larger Than ")
    assert large.digest(b"Block-Size Key - Hash Key First").hex() == (
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    )
    messages = [os.urandom(n) for n in (0, 1, 55, 56, 64, 119, 200)]
    for key in (b"", b"k", os.urandom(32), os.urandom(64), os.urandom(65)):
        for prefix in (b"", b"zkpor-user-nonce-v1"):
            expected = [hmac.digest(key, prefix + m, "sha256") for m in messages]
            assert encoding.KeyedHmac(key, prefix).digests(messages) == expected


def test_padding_id_hashes_are_reproducible_field_elements() -> None:
    one = padding_id_hash(b"s" * 32, "r", 5)
    assert one == padding_id_hash(b"s" * 32, "r", 5) != padding_id_hash(b"s" * 32, "r", 6)
    assert all(0 <= v < 2**64 - 2**32 + 1 for v in one) and len(one) == 4


def test_batched_id_hashes_equal_the_reference() -> None:
    uids = ["a", "bc", "x" * 30, "é-ü", "1234567890", "y" * 128]
    nonces = [bytes([i]) * 32 for i in range(len(uids))]
    batched = id_hashes_of(uids, nonces)
    for i, (uid, nonce) in enumerate(zip(uids, nonces, strict=True)):
        assert batched[i].tolist() == encoding.id_hash(uid, nonce)


def test_hkdf_matches_rfc_5869() -> None:
    # RFC 5869, appendix A, test cases 1 and 3 (SHA-256)
    okm = encoding._hkdf_sha256(b"\x0b" * 22, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    okm = encoding._hkdf_sha256(b"\x0b" * 22, b"", b"", 42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_nonces_and_padding_of_a_batch_equal_one_at_a_time(proven: tuple[Path, bytes]) -> None:
    directory, secret = proven
    inputs = load_round_inputs(directory)
    users, bits = inputs.users, tuple(a.bits for a in inputs.config.assets)
    assert inputs.config.round_id == "2024-06"
    shape = choose_batch_shape(len(users), bits, SMALL_BATCH)
    plan = plan_batches(secret, "2024-06", users, shape)
    members = batch_members(plan, 1, secret, "2024-06", users)
    for position, row in enumerate(members.rows.tolist()):
        if row >= 0:
            uid = users.uid(row)
            nonce = encoding.user_nonce(secret, "2024-06", uid)
            assert (members.uids[position], members.nonces[position]) == (uid, nonce)
            assert members.id_hashes[position].tolist() == encoding.id_hash(uid, nonce)
            assert members.equity[position].tolist() == users.equity[row].tolist()
        else:
            assert members.uids[position] is None and members.nonces[position] is None
            assert members.id_hashes[position].tolist() == padding_id_hash(secret, "2024-06", -1 - row)
            assert not members.equity[position].any() and not members.debt[position].any()
    assert (members.rows < 0).any() and (members.rows >= 0).any()
    hkdf = encoding._hkdf_sha256(secret, b"2024-06", encoding.NONCE_INFO + b"u7", 32)
    assert encoding.user_nonces(secret, "2024-06", [b"u7", b"u8"])[0] == hkdf


def test_batch_shape_follows_the_user_count() -> None:
    config = default_round_config()
    bits = tuple(a.bits for a in config.assets)
    assert choose_batch_shape(1, bits) == choose_batch_shape(32, bits)
    small = choose_batch_shape(1, bits)
    assert (small.batch_size, small.limb_bits, small.batch_count) == (32, 8, 1)
    demo = choose_batch_shape(2000, bits)
    assert (demo.batch_size, demo.limb_bits, demo.slots) == (2048, 8, 2048)
    big = choose_batch_shape(1_000_000, bits)
    assert (big.batch_size, big.limb_bits, big.batch_count) == (8192, 16, 123)
    aggregated = choose_batch_shape(1_000_000, bits, largest_auto=MAX_AUTO_BATCH_AGGREGATED)
    assert (aggregated.batch_size, aggregated.batch_count) == (16384, 62)  # half the tree's leaves
    assert choose_batch_shape(2000, bits, largest_auto=MAX_AUTO_BATCH_AGGREGATED) == demo
    for bad in (16, 48, 1 << 21):
        with pytest.raises(ZkporError, match="batch size"):
            choose_batch_shape(100, bits, bad)


def test_the_100_bit_default_path(tmp_path: Path) -> None:
    secret = make_round(tmp_path, 20)
    report = prove_round(tmp_path, secret, batch_size=SMALL_BATCH, aggregate=False)  # default options
    assert report.summary["security"]["conjectured_bits"] >= 100
    assert report.summary["proof_options"]["zero_knowledge"] is True
    result = verify_round(tmp_path)  # default minimum: 100 bits
    assert result.security.conjectured_bits >= 100


def test_a_weaker_proof_than_the_auditor_requires_is_refused(proven: tuple[Path, bytes]) -> None:
    directory, _ = proven
    with pytest.raises(ZkporError, match="batch 0.*22 conjectured bits, below the required 100"):
        verify_round(directory)


# ---- refusals -----------------------------------------------------------------------------------


def test_prove_names_the_line_of_a_user_with_negative_net_value(tmp_path: Path) -> None:
    secret = make_round(tmp_path, 40)
    line = append_user_line(tmp_path, {"uid": "in-the-red", "BTC_debt": "0.00000001"})
    with pytest.raises(InputError, match="'in-the-red' has a negative net value") as caught:
        prove_small(tmp_path, secret)
    assert caught.value.line == line == 42 and caught.value.path == str(tmp_path / "users.csv")
    assert not (tmp_path / "proof").exists(), "refused before anything was written"


def test_a_negative_net_value_found_inside_a_batch_names_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader refuses first; should it not, the batch prover's refusal is mapped back to the line."""
    secret = make_round(tmp_path, 40)
    line = append_user_line(tmp_path, {"uid": "hidden", "ETH_debt": "1", "USDT_equity": "5"})
    monkeypatch.setattr("zkpor.round.directory.check_net_values", lambda users, config: None)
    with pytest.raises(InputError, match="'hidden' has a negative net value") as caught:
        prove_small(tmp_path, secret)
    assert caught.value.line == line


def test_a_balance_over_its_bound_is_refused_with_its_line(tmp_path: Path) -> None:
    secret = make_round(tmp_path, 10)
    line = append_user_line(tmp_path, {"uid": "whale", "BTC_equity": str(2**52 // 10**8 + 1)})
    with pytest.raises(InputError, match="bound of 2\\^52") as caught:
        prove_small(tmp_path, secret)
    assert caught.value.line == line and caught.value.field == "BTC_equity"


# ---- the exchange secret and resuming ------------------------------------------------------------


def test_the_secret_file_is_created_private_and_checked(tmp_path: Path) -> None:
    secret, created = load_secret(tmp_path / "s", create=True)
    assert created and len(secret) == 32
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o600
    assert load_secret(tmp_path / "s") == (secret, False)
    (tmp_path / "short").write_bytes(b"too short")
    with pytest.raises(InputError, match=r"short: the exchange secret is open to other users \(mode 644\)"):
        load_secret(tmp_path / "short")
    (tmp_path / "short").chmod(0o600)
    with pytest.raises(InputError, match="must be 16–4096 bytes"):
        load_secret(tmp_path / "short")
    with pytest.raises(InputError, match="not found"):
        load_secret(tmp_path / "missing")


def test_the_secret_never_reaches_the_outputs(proven: tuple[Path, bytes]) -> None:
    directory, secret = proven
    for path in (directory / "proof").rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
            assert secret.hex() not in path.read_bytes().decode("latin-1"), path


def test_a_rerun_reuses_every_batch_and_restarts_refuse_changed_inputs(tmp_path: Path) -> None:
    secret = make_round(tmp_path, 40)
    first = prove_small(tmp_path, secret)
    files = {p.name: p.read_bytes() for p in (tmp_path / "proof/batches").iterdir()}
    again = prove_small(tmp_path, secret)
    assert (again.batches_proven, again.batches_reused) == (0, 2)
    assert again.summary == first.summary
    assert files == {p.name: p.read_bytes() for p in (tmp_path / "proof/batches").iterdir()}
    with pytest.raises(ZkporError, match="different exchange secret id.*--fresh"):
        prove_small(tmp_path, b"another secret of 32 bytes......")
    with pytest.raises(ZkporError, match="different batch size"):
        prove_small(tmp_path, secret, batch_size=64)
    append_user_line(tmp_path, {"uid": "newcomer", "USDT_equity": "1"})
    with pytest.raises(ZkporError, match="different users.csv sha256"):
        prove_small(tmp_path, secret)
    fresh = prove_small(tmp_path, secret, fresh=True)
    assert (fresh.batches_proven, fresh.batches_reused) == (2, 0)
    verify_round(tmp_path, min_security_bits=0)


def test_a_crash_between_batch_file_and_store_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch 1's file is written, then the process dies before its rows are committed."""
    secret = make_round(tmp_path, 90)
    original = InclusionStore.add_batch

    def crash_on_batch_1(self, batch, nodes, users):
        if batch.batch == 1:
            raise KeyboardInterrupt  # what a kill looks like from here: nothing more runs
        return original(self, batch, nodes, users)

    monkeypatch.setattr(InclusionStore, "add_batch", crash_on_batch_1)
    with pytest.raises(InterruptError, match="interrupted: 1 of 3 batches are proven and kept"):
        prove_small(tmp_path, secret)
    assert (tmp_path / "proof/batches/00001.zkp").exists() and not (tmp_path / "proof/global.json").exists()
    monkeypatch.setattr(InclusionStore, "add_batch", original)
    resumed = prove_small(tmp_path, secret)
    assert (resumed.batches_reused, resumed.batches_proven) == (1, 2)
    verify_round(tmp_path, min_security_bits=0)
    with InclusionStore(tmp_path / "private/inclusion.sqlite", create=False) as store:
        assert sorted(store.finished_batches()) == [0, 1, 2]


def test_ctrl_c_just_after_a_batch_is_committed_counts_it_as_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C landing after batch 1's rows are committed, before the loop counts it: the message
    says what a resume will find (two batches), not what the loop had counted (one)."""
    secret = make_round(tmp_path, 90)
    original = InclusionStore.add_batch

    def interrupt_after_batch_1(self, batch, nodes, users):
        original(self, batch, nodes, users)
        if batch.batch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(InclusionStore, "add_batch", interrupt_after_batch_1)
    with pytest.raises(InterruptError, match="interrupted: 2 of 3 batches are proven and kept"):
        prove_small(tmp_path, secret)
    monkeypatch.setattr(InclusionStore, "add_batch", original)
    resumed = prove_small(tmp_path, secret)
    assert (resumed.batches_reused, resumed.batches_proven) == (2, 1)


def test_a_damaged_batch_file_is_proven_again(tmp_path: Path) -> None:
    secret = make_round(tmp_path, 40)
    prove_small(tmp_path, secret)
    (tmp_path / "proof/batches/00000.zkp").write_bytes(b"garbage")
    again = prove_small(tmp_path, secret)
    assert (again.batches_reused, again.batches_proven) == (1, 1)
    verify_round(tmp_path, min_security_bits=0)


def test_options_are_recorded(proven: tuple[Path, bytes]) -> None:
    directory, _ = proven
    g = json.loads((directory / "proof/global.json").read_text())
    assert g["proof_options"] == {
        "blowup": 4,
        "num_queries": 8,
        "grinding_bits": 2,
        "fri_folding_log": 2,
        "fri_final_degree": 4,
        "zero_knowledge": True,
        "hasher": "blake3",
    }
    assert (g["batch_size"], g["limb_bits"], g["batch_count"]) == (SMALL_BATCH, 8, 3)
    assert CHEAP.num_queries == 8


def test_plan_is_rebuilt_identically(proven: tuple[Path, bytes]) -> None:
    directory, secret = proven
    inputs = load_round_inputs(directory)
    config = inputs.config
    shape = choose_batch_shape(USERS, tuple(a.bits for a in config.assets), SMALL_BATCH)
    a = plan_batches(secret, config.round_id, inputs.users, shape)
    b = plan_batches(secret, config.round_id, inputs.users, shape)
    assert np.array_equal(a.slots, b.slots)


def test_balance_blobs_are_zlib_of_little_endian_u64_and_unpack() -> None:
    rng = np.random.default_rng(2)
    equity = rng.integers(0, 2**63, (5, 3), dtype=np.int64).astype(np.uint64) * np.uint64(2)
    debt = np.zeros_like(equity)
    debt[1] = [2**64 - 1, 0, 7]
    blobs = pack_balance_rows(equity, debt)
    for row, blob in enumerate(blobs):
        values = [*equity[row].tolist(), *debt[row].tolist()]
        assert blob == zlib.compress(struct.pack("<6Q", *values), 6)
        assert unpack_balances(blob, 3) == (equity[row].tolist(), debt[row].tolist())
