"""One row in, one verdict out: picks the chain module for a row and turns its exceptions into an Outcome.

`verdict` runs in worker processes (see engine.py), so it returns a plain tuple.
"""

from __future__ import annotations

from zkpor.reserves import bitcoin, evm, tron
from zkpor.reserves.networks import Chain, canonical_address, resolve_chain
from zkpor.reserves.outcome import (
    FAILED,
    UNSUPPORTED,
    VERIFIED,
    KeyLink,
    KeyNotLinked,
    Outcome,
    Rejected,
    Unsupported,
)
from zkpor.reserves.rows import ReserveRow

# Families whose modules are loaded lazily (keeps worker start-up light when a file has none of them).
_OTHER_FAMILIES = {
    "solana": "zkpor.reserves.solana",
    "aptos": "zkpor.reserves.aptos",
    "sui": "zkpor.reserves.sui",
    "starknet": "zkpor.reserves.starknet",
    "cardano": "zkpor.reserves.cardano",
    "ton": "zkpor.reserves.ton",
    "polkadot": "zkpor.reserves.polkadot",
    "xrpl": "zkpor.reserves.xrpl",
    "eos": "zkpor.reserves.eos",
    "aelf": "zkpor.reserves.aelf",
    "filecoin": "zkpor.reserves.filecoin",
}


def _verify_evm(row: ReserveRow, chain: Chain) -> Outcome:
    okc = chain.id == "okc"
    if not (row.eoa1 or row.eoa2):
        return Outcome(
            VERIFIED, evm.verify(row.address, row.message, row.signature1, row.signature2, okc=okc)
        )
    # A contract wallet, or a staking position, owned by EOAs: the owners' signatures are checked here;
    # that they owned `row.address` at the snapshot is chain state (owners.py), settled by the engine.
    eoa2, note = row.eoa2, ""
    if eoa2 and not row.signature2 and "eigenlayer" in row.row_type.lower():
        # OKX's Eigenlayer rows name the EigenPod contract as EOA2; a contract cannot sign.
        eoa2, note = "", f"; EOA2 {row.eoa2} is the EigenPod contract (not a signer)"
    owners = evm.verify_owners(row.message, row.signature1, row.signature2, row.eoa1, eoa2, okc=okc)
    signers = ",".join(canonical_address(chain, owner) for owner in owners)
    raise KeyNotLinked(
        f"owner signatures valid ({', '.join(owners)}){note}; that they owned {row.address} at the "
        "snapshot needs the owners and threshold then: give --rpc for this network (Safe-style "
        "getOwners/getThreshold at the snapshot block) or --owners FILE",
        (row.address, signers, f"EVM owners {'+'.join(owners)} signed{note}"),
    )


def verify_ownership(row: ReserveRow, chain: Chain) -> Outcome:
    """Check the row's signature(s) against its address on `chain`; never raises."""
    try:
        if chain.family == "bitcoin":
            return bitcoin.verify(
                chain.coin, row.address, row.message, row.signature1, row.signature2, row.script_or_key
            )
        if chain.family == "evm":
            return _verify_evm(row, chain)
        if chain.family == "tron":
            if row.signature2:
                raise Rejected("two signatures for a single-key address")
            return Outcome(VERIFIED, tron.verify(row.address, row.message, row.signature1))
        module_name = _OTHER_FAMILIES.get(chain.family)
        if module_name is None:
            raise Unsupported(f"no verifier for {chain.family}")
        try:
            module = __import__(module_name, fromlist=["verify"])
        except ModuleNotFoundError:
            raise Unsupported(f"{chain.id} signatures are not implemented yet") from None
        return Outcome(VERIFIED, module.verify(row))
    except Rejected as error:
        return Outcome(FAILED, chain.family, str(error))
    except Unsupported as error:
        link = getattr(error, "link", None)  # a valid signature awaiting account state: name its scheme
        return Outcome(UNSUPPORTED, link[2] if link else chain.family, str(error), link)


def verdict(row: ReserveRow, chain: Chain | None) -> tuple[str, str, str, KeyLink | None]:
    """(status, scheme, reason, pending account link) for a row whose chain is already resolved."""
    if row.problem:
        return FAILED, "", row.problem, None
    if chain is None:
        return FAILED, "", f"unknown network {row.network or row.coin!r}", None
    try:
        outcome = verify_ownership(row, chain)
    except Exception as error:  # noqa: BLE001 - one hostile row must never stop the others
        outcome = Outcome(FAILED, chain.family, f"internal error while checking: {type(error).__name__}")
    return outcome.status, outcome.scheme, outcome.reason, outcome.link


def check_row(row: ReserveRow) -> tuple[int, str, str, str, KeyLink | None]:
    """(line, status, scheme, reason, pending account link) for one row."""
    chain = None if row.problem else resolve_chain(row.network, row.coin)
    return (row.line, *verdict(row, chain))
