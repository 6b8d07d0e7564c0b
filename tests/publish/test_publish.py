"""`zkpor publish` and `zkpor demo`: the public folder, its manifest, what it refuses, the history."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil

import pytest

from zkpor.errors import VerificationError, ZkporError
from zkpor.round.history import HistoryStore
from zkpor.round.publish import PrivateFileError, PublicFolder, publish_round

from .conftest import ROUNDS

PUBLIC_FILES = {
    "global.json", "summary.json", "round.zkp", "reserves/results.csv", "reserves/sums.json",
    "reserves/liabilities-verification.json",
    "report.json", "report.html", "report.pdf", "verify.html",
}  # fmt: skip


def test_demo_ends_with_a_summary_and_the_report(demos):
    out = demos.outputs[ROUNDS[-1]]
    labels = ("Liabilities root", "Reserve ratio", "Address rows", "Customer check", "Customer page")
    for label in (*labels, "History"):
        assert label in out
    assert "3 round(s)" in out
    assert f"Verified and published: round {ROUNDS[-1]}." in out
    assert str(demos.public() / "report.html") in out.replace("\n", "")
    assert "included under the published root" in out


def test_public_folder_holds_the_proof_reserves_and_report_and_nothing_private(demos, session_config_home):
    public = demos.public()
    files = {p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file()}
    # The round proof is the liabilities proof: no batch proof (an option), never a tree node.
    assert files == PUBLIC_FILES | {"manifest.json"}
    round_dir = demos.round_dir(ROUNDS[-1])
    secret_path = session_config_home / f"zkpor/secrets/{ROUNDS[-1]}.secret"  # where the demo put it
    private = [secret_path, round_dir / "users.csv", round_dir / "private/inclusion.sqlite"]
    private_bytes = [p.read_bytes() for p in private if p.exists()]
    assert len(private_bytes) == 3
    secret = private_bytes[0]
    for name in files:
        data = (public / name).read_bytes()
        assert secret not in data and data not in private_bytes, name


def test_batch_proofs_are_published_only_when_asked(round_copy, run_main, tmp_path):
    history = str(round_copy.parent / "history.sqlite")
    result = run_main("publish", str(round_copy), "--db", history, "--with-batch-proofs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    public = round_copy / "public"
    batches = sorted(p.name for p in (public / "batches").iterdir())
    assert batches and all(name.endswith(".zkp") for name in batches) and not (public / "nodes").exists()
    both = run_main("verify", str(public), "--with-batch-proofs", cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    assert "and every batch proof" in both.stdout.replace("\n", " ")
    assert "security, batch: " in both.stdout  # one batch: round.zkp is its batch proof, no top node


def test_batch_proofs_published_beside_the_round_proof_are_verified_first(round_copy, run_main, tmp_path):
    """--with-batch-proofs publishes files nobody needs to verify the round: a damaged one must still
    not go out unverified."""
    batch = round_copy / "proof" / "batches" / "00000.zkp"
    data = bytearray(batch.read_bytes())
    data[-100] ^= 0x01  # inside the STARK proof: the file still parses
    batch.write_bytes(bytes(data))
    history = str(round_copy.parent / "history.sqlite")
    result = run_main("publish", str(round_copy), "--db", history, "--with-batch-proofs", cwd=tmp_path)
    assert result.returncode == 2 and "batch 0" in result.stderr, result.stderr
    assert not (round_copy / "public").exists()


def test_verify_prints_the_stack_and_needs_no_batch_proof(demos, tmp_path, run_main):
    result = run_main("verify", str(demos.public()), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.replace("\n", " ")
    # The demo round is one batch: its round proof is that batch proof (no tree, no keys).
    assert "the round's one batch proof, no tree; batch proofs not needed" in out
    assert "security, batch: " in out and "security, top" not in out and "round proof checked in" in out


def test_manifest_lists_every_other_file_with_its_hash_and_size(demos):
    public = demos.public()
    manifest = json.loads((public / "manifest.json").read_text())
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk
    for path, entry in listed.items():
        data = (public / path).read_bytes()
        assert entry == {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_verify_takes_the_published_folder_alone(demos, tmp_path, run_main):
    alone = tmp_path / "downloaded"
    shutil.copytree(demos.public(), alone)
    result = run_main("verify", str(alone), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "matches manifest.json" in result.stdout and "OK:" in result.stdout


@pytest.mark.parametrize("change", ["edit", "extra", "remove", "no-manifest"])
def test_verify_rejects_a_folder_that_differs_from_its_manifest(demos, tmp_path, run_main, change):
    alone = tmp_path / "downloaded"
    shutil.copytree(demos.public(), alone)
    if change == "edit":
        html = alone / "report.html"
        html.write_text(html.read_text().replace("fully backed", "fully backed!!"))
        expected = "report.html does not match its SHA-256"
    elif change == "extra":
        (alone / "reserves" / "notes.txt").write_text("unlisted")
        expected = "reserves/notes.txt is not listed"
    elif change == "remove":
        (alone / "report.pdf").unlink()
        expected = "report.pdf is listed in manifest.json but missing"
    else:
        (alone / "manifest.json").unlink()
        expected = "manifest.json is missing"
    result = run_main("verify", str(alone), cwd=tmp_path)
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_public_folder_refuses_private_files(tmp_path):
    secret = tmp_path / "exchange.secret"
    secret.write_bytes(os.urandom(32))
    folder = PublicFolder(tmp_path / "public", [secret])
    (tmp_path / "public").mkdir()
    for name in ("exchange.secret", "proof/inclusion.sqlite", "users.csv", "users.jsonl", "private/x.json",
                 "keys/hot.secret", "../outside.json"):  # fmt: skip
        with pytest.raises(PrivateFileError):
            folder.add_bytes(name, b"data")
    innocent = tmp_path / "notes.json"
    os.link(secret, innocent)  # the secret under another name (a hard link: the same file)
    with pytest.raises(PrivateFileError, match="private file"):
        folder.add_file("reserves/notes.json", innocent)
    assert not any((tmp_path / "public").iterdir())


def test_publish_refuses_reserves_results_that_are_a_private_file(round_copy):
    results = round_copy / "reserves" / "results.csv"
    results.unlink()
    results.symlink_to(round_copy / "users.csv")
    with pytest.raises(PrivateFileError):
        publish_round(round_copy, history_db=round_copy.parent / "history.sqlite")
    assert not (round_copy / "public").exists()
    assert not [p for p in round_copy.iterdir() if p.name.startswith(".public")]


def test_publish_refuses_reserves_checked_against_another_proof(round_copy):
    sums = round_copy / "reserves" / "sums.json"
    record = round_copy / "reserves" / "liabilities-verification.json"
    document = json.loads(sums.read_text())
    document["ratios"]["liabilities"]["root"] = "00" * 32
    sums.write_text(json.dumps(document))
    with pytest.raises(VerificationError, match="sums.json names round '2024-07', root '0000"):
        publish_round(round_copy, history_db=round_copy.parent / "history.sqlite")  # the record differs
    recorded = json.loads(record.read_text())
    record.write_text(json.dumps({**recorded, "root": "00" * 32}))  # both name the other proof
    with pytest.raises(VerificationError, match="not this round's proof"):
        publish_round(round_copy, history_db=round_copy.parent / "history.sqlite")
    del document["ratios"]["liabilities"]
    sums.write_text(json.dumps(document))
    record.unlink()  # `zkpor reserves` without --liabilities writes no record
    with pytest.raises(VerificationError, match="name no liabilities proof"):
        publish_round(round_copy, history_db=round_copy.parent / "history.sqlite")
    assert not (round_copy / "public").exists()


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("liabilities-verification.json", b'{"format": "zkpor-liab', "not valid JSON"),
        ("liabilities-verification.json", b"{}", "not a verification record"),
        ("liabilities-verification.json", None, "Is a directory"),
        ("results.csv", b"asset,network\nBTC,\xff\xfe\n", "results.csv:2: not UTF-8 text"),
    ],
)
def test_publish_refuses_a_damaged_reserves_file_in_one_line(round_copy, run_main, name, content, error):
    path = round_copy / "reserves" / name
    path.unlink()
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    result = run_main("publish", str(round_copy), cwd=round_copy.parent)
    assert result.returncode == 2 and error in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (round_copy / "public").exists()


def test_publish_refuses_sums_that_the_results_do_not_add_up_to(round_copy):
    sums = round_copy / "reserves" / "sums.json"
    document = json.loads(sums.read_text())
    document["assets"]["BTC"]["verified"] = str(1 + float(document["assets"]["BTC"]["verified"]))
    sums.write_text(json.dumps(document))
    with pytest.raises(VerificationError, match="assets.BTC.verified"):
        publish_round(round_copy, history_db=round_copy.parent / "history.sqlite")


def test_publish_refuses_an_unverified_proof(round_copy):
    summary = round_copy / "proof" / "summary.json"
    document = json.loads(summary.read_text())
    document["assets"][0]["net"] = "0"
    summary.write_text(json.dumps(document))
    with pytest.raises(VerificationError):
        publish_round(round_copy, history_db=round_copy.parent / "history.sqlite")
    assert not (round_copy / "public").exists()
    with HistoryStore.open(round_copy.parent / "history.sqlite") as store:
        assert store.list_rounds() == []


def test_a_round_is_published_and_recorded_once(round_copy, run_main):
    db = round_copy.parent / "history.sqlite"
    first = run_main("publish", str(round_copy), cwd=round_copy.parent)
    assert first.returncode == 0, first.stderr
    assert "recorded round 2024-07" in first.stdout
    again = run_main("publish", str(round_copy), cwd=round_copy.parent)
    assert again.returncode == 2 and "already published" in again.stderr
    shutil.rmtree(round_copy / "public")
    twice = run_main("publish", str(round_copy), cwd=round_copy.parent)
    assert twice.returncode == 2 and "already recorded" in twice.stderr
    assert not (round_copy / "public").exists()
    with HistoryStore.open(db) as store:
        [record] = store.list_rounds()
    assert record.status == "published" and record.round_id == "2024-07"
    published = round_copy / "public" / "report.json"
    assert not published.exists()


def test_history_lists_the_demo_rounds_with_growth_and_the_gap(demos, run_main):
    result = run_main("history", "--db", str(demos.history), cwd=demos.base)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rows = [line.split()[0] for line in lines if line.strip()[:4] == "2024"]
    assert rows == ["2024-04", "2024-05", "2024-07"]
    gap = lines.index(next(line for line in lines if "no round: 2024-06" in line))
    assert lines[gap - 1].split()[0] == "2024-05" and lines[gap + 1].split()[0] == "2024-07"
    assert "no round for 2024-06" in result.stdout
    may = next(line for line in lines if line.strip().startswith("2024-05")).split()
    assert re.fullmatch(r"[+-]\d+\.\d\d", may[4]) and may[5] == "%"  # reserves vs April
    with HistoryStore.open(demos.history) as store:
        assert [r.round_id for r in store.list_rounds()] == list(ROUNDS)
        assert {r.status for r in store.list_rounds()} == {"published"}


def test_history_store_refuses_a_round_twice_or_unverified(demos, tmp_path):
    with HistoryStore.open(demos.history) as store:
        record = store.get_round(ROUNDS[0])
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        store.add_round(record)
        with pytest.raises(ZkporError, match="already recorded"):
            store.add_round(record)
        from dataclasses import replace

        with pytest.raises(ZkporError, match="only a verified round"):
            store.add_round(replace(record, round_id="2024-09", status="proved"))
        assert [r.round_id for r in store.list_rounds()] == [ROUNDS[0]]


def test_demo_replaces_an_earlier_demo_and_refuses_other_directories(demos, tmp_path, run_main):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "important.txt").write_text("keep")
    refused = run_main("demo", str(other), "--users", "50", cwd=tmp_path)
    assert refused.returncode == 2 and "not made by `zkpor demo`" in refused.stderr
    assert (other / "important.txt").read_text() == "keep"


@pytest.mark.parametrize(
    ("where", "forged"),
    [(("totals", "ratio"), "1.5"), (("proof", "root"), "ab" * 32), (("assets", 0, "reserves"), "1000000")],
)
def test_verify_rejects_a_report_that_restates_a_figure(demos, tmp_path, run_main, where, forged):
    """A publisher who edits report.json and rewrites the manifest still fails the auditor's check."""
    from zkpor.round.publish import manifest_document

    alone = tmp_path / "downloaded"
    shutil.copytree(demos.public(), alone)
    report = json.loads((alone / "report.json").read_text())
    target = report
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = forged
    (alone / "report.json").write_text(json.dumps(report))
    files = [e["path"] for e in json.loads((alone / "manifest.json").read_text())["files"]]
    (alone / "manifest.json").write_text(json.dumps(manifest_document(alone, files, report["round_id"])))
    result = run_main("verify", str(alone), cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "report.json:" in result.stderr and repr(forged) in result.stderr


@pytest.mark.postgres
def test_publish_records_in_postgresql(round_copy, postgres_url, run_main):
    import uuid

    import sqlalchemy as sa

    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    schema = f"publish_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    try:
        first = run_main("publish", str(round_copy), "--db", url, cwd=round_copy.parent)
        assert first.returncode == 0, first.stderr
        listed = run_main("history", "--db", url, cwd=round_copy.parent)
        assert listed.returncode == 0 and "2024-07" in listed.stdout
        shutil.rmtree(round_copy / "public")
        again = run_main("publish", str(round_copy), "--db", url, cwd=round_copy.parent)
        assert again.returncode == 2 and "already recorded" in again.stderr
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_publish_names_what_is_missing(round_copy, run_main):
    shutil.rmtree(round_copy / "reserves")
    no_reserves = run_main("publish", str(round_copy), cwd=round_copy.parent)
    assert no_reserves.returncode == 2 and "run `zkpor reserves" in no_reserves.stderr
    shutil.rmtree(round_copy / "proof")
    no_proof = run_main("publish", str(round_copy), cwd=round_copy.parent)
    assert no_proof.returncode == 2 and "run `zkpor prove" in no_proof.stderr
    assert "Traceback" not in no_reserves.stderr + no_proof.stderr
    assert not (round_copy / "public").exists()


@pytest.mark.parametrize("command", [["publish"], ["round", "next"], ["demo"]])
def test_help_has_an_example(command):
    from typer.testing import CliRunner

    from zkpor.cli import app

    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and f"Example: zkpor {' '.join(command)}" in result.output


def test_publish_refuses_a_secret_kept_anywhere(round_copy, tmp_path, run_main):
    """A secret given with --secret (or ZKPOR_SECRET_FILE) is refused under any name in public/."""
    vault = tmp_path / "vault.bin"
    vault.write_bytes(os.urandom(32))
    results = round_copy / "reserves" / "results.csv"
    results.unlink()
    os.link(vault, results)  # the secret, hard-linked under the reserves results' name
    result = run_main("publish", str(round_copy), "--secret", str(vault), cwd=round_copy.parent)
    assert result.returncode == 2 and "private file" in result.stderr, result.stderr
    assert not (round_copy / "public").exists()


def test_a_full_disk_while_publishing_leaves_no_public_folder_and_no_record(
    round_copy, tmp_path, run_main, small_filesystem, fill_disk
):
    disk = small_filesystem("4m")
    round_dir = disk / round_copy.name
    shutil.copytree(round_copy, round_dir, symlinks=True)
    filler = fill_disk(disk, leave=150_000)  # room for part of public/ (its report.pdf alone is ~75 KB)
    db = tmp_path / "history.sqlite"
    failed = run_main("publish", str(round_dir), "--db", str(db), cwd=tmp_path)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith(f"error: {round_dir}/public/") and "no space left on device" in line, line
    assert not (round_dir / "public").exists() and not list(round_dir.glob(".public.*"))
    with HistoryStore.open(db) as store:
        assert store.list_rounds() == [], "a round is recorded only once it is published"

    filler.unlink()
    published = run_main("publish", str(round_dir), "--db", str(db), cwd=tmp_path)
    assert published.returncode == 0, published.stderr


def test_publish_demands_what_verify_demands(round_copy, run_main):
    """--min-proven-bits reaches both verifications of publish: a demand the demo round's proof
    does not meet refuses it in one line, before anything is written or recorded."""
    result = run_main("publish", str(round_copy), "--min-proven-bits", "200", cwd=round_copy.parent)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "proven" in line, line
    assert not (round_copy / "public").exists()
    with HistoryStore.open(round_copy.parent / "history.sqlite") as store:
        assert store.list_rounds() == []
    # --allow-non-zk only widens what is accepted: the (zero-knowledge) demo round still publishes.
    allowed = run_main(
        "publish", str(round_copy), "--allow-non-zk", "--min-proven-bits", "0", cwd=round_copy.parent
    )
    assert allowed.returncode == 0, allowed.stderr
