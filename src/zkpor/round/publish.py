"""`zkpor publish`: verify a round as an auditor would, then write ROUND_DIR/public/ in one step.

public/ holds only what the round is meant to show:

    global.json, summary.json, round.zkp           the liabilities proof (verifiable on its own);
    batches/NNNNN.zkp                              the batch proofs: only with --with-batch-proofs
                                                   (or for a round proven without a round proof)
    reserves/results.csv, reserves/sums.json       the per-address checks and verified sums
    report.json, report.html, report.pdf            the report
    verify.html                                     the customer page (zkpor.site.verify_page)
    manifest.json                                   SHA-256 and size of every other file

It is built under a temporary name inside ROUND_DIR, verified there as `zkpor verify PUBLIC_DIR`
would (so the bytes published are the bytes verified), and renamed into place: it appears complete
or not at all. Every file goes through `PublicFolder`, which refuses private files by name and by
identity (the exchange secret, the inclusion store, the users file, anything under private/). The
round is recorded in the history store in the same step; a round is recorded once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.fsutil import (
    OutputError,
    copy_atomically,
    make_directory,
    output_error,
    renamed_in_message,
    write_atomically,
)
from zkpor.liabilities.published import MAX_JSON_BYTES, load_json_object, read_bounded
from zkpor.liabilities.round_proof import (
    GLOBAL_NAME,
    PRIVATE_DIR,
    PROOF_DIR,
    STORE_NAME,
    SUMMARY_NAME,
    RoundVerification,
    verify_round,
)
from zkpor.liabilities.secret import OLD_SECRET_NAME, SECRET_ENV, default_secret_path
from zkpor.round.directory import USERS_FILE_NAMES
from zkpor.round.reserves_results import RESULTS_NAME, SUMS_NAME, ReservesResults, load_reserves_results
from zkpor.site.verify_page import PAGE_NAME as VERIFY_PAGE

PUBLIC_DIR = "public"
RESERVES_DIR = "reserves"
MANIFEST_NAME = "manifest.json"
REPORT_JSON, REPORT_HTML, REPORT_PDF = "report.json", "report.html", "report.pdf"
_SAFE_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
# Names that are private wherever they appear; `.secret` and SQLite files are never published.
_PRIVATE_NAMES = {OLD_SECRET_NAME, STORE_NAME, *USERS_FILE_NAMES}
_PRIVATE_SUFFIXES = (".secret", ".sqlite", ".sqlite-journal", ".sqlite-wal", ".db", ".key", ".pem")

Notice = Callable[[str], None]


class PrivateFileError(ZkporError):
    """Something private was about to be placed in the public folder."""


def private_reason(relative: str) -> str | None:
    """Why a public path may not hold this file, or None when the name is fine."""
    parts = PurePosixPath(relative).parts
    name = parts[-1] if parts else ""
    if PRIVATE_DIR in parts:
        return f"{relative} is under {PRIVATE_DIR}/"
    if name in _PRIVATE_NAMES:
        return f"{name} is private (exchange secret, inclusion store or users file)"
    if name.endswith(_PRIVATE_SUFFIXES):
        return f"{name}: secrets and databases are never published"
    return None


class PublicFolder:
    """Files being placed in a public folder; refuses private ones before writing anything."""

    def __init__(self, directory: Path, private_files: list[Path]) -> None:
        self.directory = directory
        self._private = {_identity(p) for p in private_files if p.exists()}
        self.files: list[str] = []

    def add_bytes(self, relative: str, data: bytes) -> None:
        self._check_name(relative)
        target = self.directory / relative
        make_directory(target.parent)
        write_atomically(target, data)
        self.files.append(relative)

    def check_source(self, source: Path, relative: str) -> None:
        """Refuse a source file that is a link, or is one of the private files under another name."""
        if source.is_symlink() or (source.exists() and _identity(source) in self._private):
            raise PrivateFileError(
                f"refusing to publish {source} as {relative}: it is (or links to) a private file"
            )

    def add_file(self, relative: str, source: Path) -> None:
        self._check_name(relative)
        self.check_source(source, relative)
        target = self.directory / relative
        make_directory(target.parent)
        copy_atomically(source, target)
        self.files.append(relative)

    def _check_name(self, relative: str) -> None:
        if not _SAFE_PATH.fullmatch(relative) or ".." in relative.split("/"):
            raise PrivateFileError(f"refusing to publish under the odd path {relative!r}")
        reason = private_reason(relative)
        if reason:
            raise PrivateFileError(f"refusing to publish {relative}: {reason}")


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()  # follows links: a link to a private file has the private file's identity
    return stat.st_dev, stat.st_ino


def private_files_of(
    round_dir: Path, secret_file: Path | None = None, round_id: str | None = None
) -> list[Path]:
    """Every private file a round directory may hold (and the exchange secret, wherever it lives:
    named, in the environment, at the per-user default, or where an older zkpor kept it)."""
    candidates = [round_dir / OLD_SECRET_NAME, round_dir / PROOF_DIR / STORE_NAME]
    candidates += [round_dir / name for name in USERS_FILE_NAMES]
    if (round_dir / PRIVATE_DIR).is_dir():
        candidates += [p for p in (round_dir / PRIVATE_DIR).rglob("*") if p.is_file()]
    if round_id is not None:
        candidates.append(default_secret_path(round_id))
    for configured in (secret_file, os.environ.get(SECRET_ENV)):
        if configured:
            candidates.append(Path(configured))
    return candidates


# ---- the manifest -----------------------------------------------------------------------------


def manifest_document(directory: Path, files: list[str], round_id: str) -> dict[str, Any]:
    entries = []
    for relative in sorted(files):
        data = (directory / relative).read_bytes()
        entries.append({"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    return {"round_id": round_id, "files": entries}


def check_manifest(directory: str | Path) -> dict[str, Any]:
    """Check a public folder against its manifest.json: every listed file present with its SHA-256 and
    size, and no file in the folder that the manifest does not list. Returns the manifest."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise VerificationError(f"{path} is missing: a published folder lists its files there")
    manifest = load_json_object(read_bounded(path, MAX_JSON_BYTES), str(path))
    files = manifest.get("files")
    if not isinstance(files, list):
        raise InputError("expected an object with a 'files' list", path=path, field="files")
    listed = set()
    for i, entry in enumerate(files):
        where = f"files[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"path", "sha256", "bytes"}:
            raise InputError("each entry needs exactly path, sha256 and bytes", path=path, field=where)
        relative = entry["path"]
        if (
            not isinstance(relative, str)
            or not _SAFE_PATH.fullmatch(relative)
            or ".." in relative.split("/")
            or relative == MANIFEST_NAME
            or relative in listed
        ):
            raise InputError(f"bad or repeated path {relative!r}", path=path, field=where)
        listed.add(relative)
        target = directory / relative
        if not target.is_file() or target.is_symlink():
            raise VerificationError(f"{target} is listed in {MANIFEST_NAME} but missing")
        data = target.read_bytes()
        if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise VerificationError(f"{target} does not match its SHA-256 and size in {MANIFEST_NAME}")
    present = {
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() or p.is_symlink()
    }
    unlisted = sorted(present - listed - {MANIFEST_NAME})
    if unlisted:
        raise VerificationError(f"{directory}: {unlisted[0]} is not listed in {MANIFEST_NAME}")
    return manifest


def is_public_folder(directory: str | Path) -> bool:
    """A folder `zkpor publish` wrote: it must then be checked against its manifest (which must be there)."""
    directory = Path(directory)
    return any((directory / name).exists() for name in (MANIFEST_NAME, REPORT_JSON, REPORT_HTML))


def verify_public_folder(directory: str | Path, **options: Any) -> RoundVerification:
    """An auditor's check of a published folder alone: the manifest, the liabilities proof (`options`
    as `verify_round` takes them: minimum security, progress), then the report's figures against the
    proof and the reserves results beside it."""
    directory = Path(directory)
    check_manifest(directory)
    verification = verify_round(directory, **options)
    check_report_figures(directory, verification)
    return verification


# Figures of report.json that follow from the proof and the reserves results alone (the history and
# growth figures come from the history store, which is not part of the folder).
_REPORT_ASSET_FIELDS = (
    "symbol", "decimals", "price_usd", "equity", "debt", "net_liabilities", "reserves",
    "reserves_by_network", "ratio", "ratio_exact", "reserves_usd", "liabilities_usd",
)  # fmt: skip
_REPORT_TOTAL_FIELDS = ("reserves_usd", "liabilities_usd", "ratio", "ratio_exact")
_REPORT_PROOF_FIELDS = (
    "root", "users_rounded_up", "batch_count", "batch_size", "conjectured_security_bits",
    "proven_security_bits", "proof_bytes", "zero_knowledge", "blowup", "queries", "grinding_bits",
)  # fmt: skip


def check_report_figures(directory: Path, verification: RoundVerification) -> None:
    """report.json must state what the verified proof and the published reserves results give: a
    report that restates a total, a ratio, the root or the address checks fails."""
    path = directory / REPORT_JSON
    report = load_json_object(read_bounded(path, MAX_JSON_BYTES), str(path))
    from zkpor.round.report_model import build_report  # SQLAlchemy: only when there is a report

    reserves = load_reserves_results(directory / RESERVES_DIR)
    _check_binding(reserves, verification)
    expected = build_report(verification, reserves, [], datetime.now(UTC))
    pairs = [
        ("round_id", expected["round_id"], report.get("round_id")),
        ("snapshot_time", expected["snapshot_time"], report.get("snapshot_time")),
        ("addresses.chains", expected["addresses"]["chains"], (report.get("addresses") or {}).get("chains")),
        ("assets", len(expected["assets"]), len(report.get("assets") or [])),
    ]
    pairs += [
        (f"totals.{k}", expected["totals"][k], (report.get("totals") or {}).get(k))
        for k in _REPORT_TOTAL_FIELDS
    ]
    pairs += [
        (f"proof.{k}", expected["proof"][k], (report.get("proof") or {}).get(k)) for k in _REPORT_PROOF_FIELDS
    ]
    for want, got in zip(expected["assets"], report.get("assets") or [], strict=False):
        got = got if isinstance(got, dict) else {}
        pairs += [(f"assets[{want['symbol']}].{k}", want[k], got.get(k)) for k in _REPORT_ASSET_FIELDS]
    for field_name, want, got in pairs:
        if want != got:
            raise VerificationError(
                f"{path}: {field_name} says {got!r}; the proof and the reserves results give {want!r}"
            )


# ---- publish ------------------------------------------------------------------------------------


@dataclass
class PublishResult:
    public_dir: Path
    report: dict[str, Any]
    verification: RoundVerification
    reserves: ReservesResults
    history_url: str
    files: list[str]


def publish_round(
    round_dir: str | Path,
    *,
    history_db: str | Path | None = None,
    reserves_dir: str | Path | None = None,
    min_security_bits: int = 100,
    min_proven_bits: int = 0,
    allow_non_zk: bool = False,
    secret_file: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
    with_batch_proofs: bool = False,
    notice: Notice | None = None,
) -> PublishResult:
    """Verify ROUND_DIR's liabilities proof and reserves results, write ROUND_DIR/public/ (report,
    manifest) and record the round in the history store. Refuses a round already published or
    recorded, reserves checked against another proof, and any private file."""
    # Imported here, not by `zkpor verify` (which needs this module's checks of a public folder).
    from zkpor.round.history import HistoryStore, default_history_path
    from zkpor.round.report_model import build_report, round_record

    round_dir = Path(round_dir)
    public = round_dir / PUBLIC_DIR
    if public.exists():
        raise ZkporError(f"{public} already exists: round already published (remove it to publish again)")
    if not (round_dir / PROOF_DIR / GLOBAL_NAME).is_file():
        raise InputError(f"no {PROOF_DIR}/{GLOBAL_NAME}: run `zkpor prove {round_dir}` first", path=round_dir)
    # The same demands for both verifications: the round as proven, and the folder as published
    # (batch proofs published beside the round proof are verified too: nothing unverified goes out).
    requirements = dict(
        min_security_bits=min_security_bits, min_proven_bits=min_proven_bits, allow_non_zk=allow_non_zk,
        check_batches=True if with_batch_proofs else None,
    )
    verification = verify_round(round_dir, progress=progress, notice=notice, **requirements)
    g = verification.global_proof
    building = round_dir / f".{PUBLIC_DIR}.{secrets.token_hex(6)}.tmp"
    folder = PublicFolder(building, private_files_of(round_dir, secret_file, g.round_id))
    reserves_dir = Path(reserves_dir) if reserves_dir else round_dir / RESERVES_DIR
    for name in (RESULTS_NAME, SUMS_NAME):  # before reading them: a private file is not even parsed
        folder.check_source(reserves_dir / name, f"{RESERVES_DIR}/{name}")
    reserves = load_reserves_results(reserves_dir)
    _check_binding(reserves, verification)

    with HistoryStore.open(history_db or default_history_path(round_dir)) as store:
        if store.get_round(g.round_id) is not None:
            raise ZkporError(f"round {g.round_id} is already recorded in the history store {store.url}")
        snapshot = datetime.fromisoformat(g.snapshot_time.replace("Z", "+00:00"))
        earlier = [r for r in store.list_rounds() if r.snapshot_time < snapshot]
        report = build_report(verification, reserves, earlier, now or datetime.now(UTC))

        make_directory(building)
        try:
            _add_proof_files(folder, verification, with_batch_proofs)
            for name, source in reserves.files.items():
                folder.add_file(name, source)
            report_json = (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()
            folder.add_bytes(REPORT_JSON, report_json)
            from zkpor.report.render import render_html, render_pdf
            from zkpor.site.verify_page import render_verify_page

            html = render_html(report)
            folder.add_bytes(REPORT_HTML, html.encode())
            folder.add_bytes(REPORT_PDF, render_pdf(html))
            folder.add_bytes(VERIFY_PAGE, render_verify_page(g))
            manifest = manifest_document(building, folder.files, g.round_id)
            write_atomically(building / MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode())
            # The folder as it will be published passes the auditor's check on its own: the bytes
            # copied are the bytes verified, and the report states what they prove.
            verify_public_folder(building, **requirements)
            store.add_round(round_record(report, verification, hashlib.sha256(report_json).hexdigest()))
            try:
                os.rename(building, public)
            except OSError as error:
                store.delete_round(g.round_id)
                raise output_error(public, error) from None
        except OutputError as error:  # a full disk, say: named as the file in public/ it would have been
            shutil.rmtree(building, ignore_errors=True)
            raise renamed_in_message(error, building, public) from None
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        url = store.url
    return PublishResult(public, report, verification, reserves, url, sorted(folder.files))


def _add_proof_files(folder: PublicFolder, verification: RoundVerification, with_batch_proofs: bool) -> None:
    """global.json, summary.json and the round proof; the batch proofs only when asked (or when the
    round has no round proof). The tree's nodes (proof/nodes/) are never published."""
    proof_dir, g = verification.proof_dir, verification.global_proof
    folder.add_file(GLOBAL_NAME, proof_dir / GLOBAL_NAME)
    folder.add_file(SUMMARY_NAME, proof_dir / SUMMARY_NAME)
    if g.round_proof is not None:
        folder.add_file(g.round_proof, proof_dir / g.round_proof)
    if with_batch_proofs or g.round_proof is None:
        for batch in g.batches:
            folder.add_file(batch.file, proof_dir / batch.file)


def _check_binding(reserves: ReservesResults, verification: RoundVerification) -> None:
    """The reserves must have been checked against this very proof: same round id, same root."""
    from zkpor.liabilities.published import digest_hex

    g = verification.global_proof
    if reserves.liabilities_round_id is None:
        raise VerificationError(
            f"{reserves.directory}: the reserves results name no liabilities proof; run `zkpor reserves "
            "... --liabilities ROUND_DIR/proof` so the ratios come from the verified proof"
        )
    if (reserves.liabilities_round_id, reserves.liabilities_root) != (g.round_id, digest_hex(g.root)):
        raise VerificationError(
            f"{reserves.directory}: the reserves were checked against round "
            f"{reserves.liabilities_round_id} root {reserves.liabilities_root}, not this round's proof "
            f"({g.round_id}, root {digest_hex(g.root)})"
        )
