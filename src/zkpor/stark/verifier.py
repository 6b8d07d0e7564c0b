"""The verifier: replays the transcript, checks the out-of-domain identity, every opening and FRI.

It trusts nothing in the proof about the statement: the AIR (and so its constraints, assertions
and public inputs) comes from the caller, the shape of the proof must match it exactly, and the
options in the proof must reach the caller's minimum security.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkpor.errors import VerificationError
from zkpor.field.extension import Ext
from zkpor.stark import composition, fri
from zkpor.stark.air import Air, Frame
from zkpor.stark.commitment import verify_opening
from zkpor.stark.deep import DeepAtQueries
from zkpor.stark.domain import ProofDomain
from zkpor.stark.next_row import next_frame_rows, next_row_columns
from zkpor.stark.params import ParameterError, SecurityLevel, security_level
from zkpor.stark.preprocessed import VerificationKey, absorb_key, key_mismatch
from zkpor.stark.proof import Opening, StarkProof
from zkpor.stark.statement import draw_ood_point, draw_query_positions, start_transcript

DEFAULT_MIN_SECURITY_BITS = 100
U = Ext(0, 1)  # the extension generator: an aux value is c0 + c1·u


@dataclass(frozen=True)
class VerificationReport:
    air: str
    trace_length: int
    security: SecurityLevel
    proof_bytes: int


def _reject(reason: str) -> VerificationError:
    return VerificationError(f"STARK proof rejected: {reason}")



def replay_to_out_of_domain(
    air: Air, proof: StarkProof, domain: ProofDomain, key: VerificationKey | None
) -> tuple:
    """The transcript from the statement to the out-of-domain values absorbed: returns it with the
    aux challenges, the composition α and the OOD point z (shared by `verify` and the recursion
    layer's native replay of a child proof; the key is assumed checked)."""
    transcript = start_transcript(air, proof.options)
    if air.preprocessed_width:
        absorb_key(transcript, key)
    transcript.absorb_digest(b"main-root", proof.main_root)
    challenges = [Ext(*transcript.challenge_ext(b"aux-challenge")) for _ in range(air.num_aux_challenges)]
    if proof.aux_root is not None:
        transcript.absorb_digest(b"aux-root", proof.aux_root)
    alpha = Ext(*transcript.challenge_ext(b"composition"))
    transcript.absorb_digest(b"quotient-root", proof.quotient_root)
    z = Ext(*draw_ood_point(transcript, air.trace_length, domain.lde_size))
    at_z = proof.main_at_z + proof.aux_at_z + proof.preprocessed_at_z
    at_zw = proof.main_at_zw + proof.aux_at_zw + proof.preprocessed_at_zw
    for label, values in ((b"ood-z", at_z), (b"ood-zw", at_zw), (b"ood-quotient", proof.quotient_at_z)):
        transcript.absorb_elements(label, [c for v in values for c in (v.c0, v.c1)])
    return transcript, challenges, alpha, z

def _pairs_to_ext(values: list[Ext]) -> list[Ext]:
    return [values[2 * j] + values[2 * j + 1] * U for j in range(len(values) // 2)]


def verify(
    air: Air,
    proof: StarkProof | bytes,
    *,
    min_security_bits: int = DEFAULT_MIN_SECURITY_BITS,
    min_proven_bits: int = 0,
    key: VerificationKey | None = None,
) -> VerificationReport:
    """Verify `proof` against `air`; raise VerificationError (or ProofFormatError) with the reason.
    Proofs whose parameters give fewer than `min_security_bits` conjectured or `min_proven_bits`
    proven bits are refused before anything else is checked. An AIR with preprocessed columns needs
    their `key` (`preprocessed.commit_preprocessed(air, options).key`, built once by whoever
    publishes the AIR): the proof is checked against its root."""
    size = len(proof) if isinstance(proof, bytes | bytearray) else len(proof.to_bytes())
    if isinstance(proof, bytes | bytearray):
        proof = StarkProof.from_bytes(bytes(proof))
    options = proof.options
    n = air.trace_length
    if proof.log_trace_length != n.bit_length() - 1:
        raise _reject(f"proof is for a trace of 2^{proof.log_trace_length} rows, the AIR has {n}")
    if proof.main_width != air.main_width or proof.aux_width != air.aux_width:
        raise _reject("trace widths in the proof do not match the AIR")
    try:
        domain = ProofDomain.create(n, air.max_constraint_degree(), options)
    except ParameterError as error:
        raise _reject(str(error)) from None
    if proof.num_quotient_chunks != domain.num_quotient_chunks:
        raise _reject("number of quotient chunks does not match the AIR's constraint degree")
    security = security_level(options, domain.degree_bound, domain.lde_size)
    if security.conjectured_bits < min_security_bits:
        raise _reject(
            f"parameters give {security.conjectured_bits} conjectured bits, below the required "
            f"{min_security_bits}"
        )
    if security.proven_bits < min_proven_bits:
        raise _reject(
            f"parameters give {security.proven_bits} proven bits (list-decoding "
            f"{security.list_decoding_bits}, unique-decoding {security.unique_decoding_bits}), below the "
            f"required {min_proven_bits}"
        )
    if (proof.aux_root is None) != (air.aux_width == 0):
        raise _reject("aux commitment present/absent contrary to the AIR")
    if proof.preprocessed_width != air.preprocessed_width:
        raise _reject("preprocessed width in the proof does not match the AIR")
    next_row = next_row_columns(air, options.hasher)
    opened_next = (len(proof.main_at_zw), len(proof.aux_at_zw) // 2, len(proof.preprocessed_at_zw))
    if opened_next != (len(next_row.main), len(next_row.aux), len(next_row.preprocessed)):
        raise _reject("the proof's values at zω are not those of the columns the AIR reads on the next row")
    if air.preprocessed_width:
        if key is None:
            raise _reject(f"{air.name} has preprocessed columns: verifying needs its verification key")
        mismatch = key_mismatch(key, air, domain, options.hasher)
        if mismatch is not None:
            raise _reject(mismatch)

    transcript, challenges, alpha, z = replay_to_out_of_domain(air, proof, domain, key)
    zw = z * domain.omega
    at_z = proof.main_at_z + proof.aux_at_z + proof.preprocessed_at_z
    at_zw = proof.main_at_zw + proof.aux_at_zw + proof.preprocessed_at_zw

    main_next, aux_next, preprocessed_next = next_frame_rows(
        next_row, proof.main_at_zw, _pairs_to_ext(proof.aux_at_zw), proof.preprocessed_at_zw, air
    )
    frame = Frame(
        current=proof.main_at_z,
        next=main_next,
        aux_current=_pairs_to_ext(proof.aux_at_z),
        aux_next=aux_next,
        preprocessed=proof.preprocessed_at_z,
        preprocessed_next=preprocessed_next,
    )
    expected = composition.evaluate_at_point(air, domain, frame, challenges, alpha, z)
    if expected != composition.chunks_at(proof.quotient_at_z, z, n):
        raise _reject("out-of-domain check failed: the committed trace does not satisfy the constraints")

    deep_alpha = Ext(*transcript.challenge_ext(b"deep"))
    layout = fri.FriLayout.for_proof(domain, options)
    if len(proof.fri_roots) != layout.num_folds or len(proof.fri_openings) != layout.num_folds:
        raise _reject(f"expected {layout.num_folds} FRI layers, got {len(proof.fri_roots)}")
    betas = []
    for root in proof.fri_roots:
        transcript.absorb_digest(b"fri-layer-root", root)
        betas.append(Ext(*transcript.challenge_ext(b"fri-fold")))
    if len(proof.fri_final) != layout.final_degree_bound:
        raise _reject("FRI final polynomial has the wrong length")
    transcript.absorb_elements(b"fri-final", [c for e in proof.fri_final for c in (e.c0, e.c1)])
    if not transcript.check_grinding(proof.pow_nonce, options.grinding_bits):
        raise _reject("proof-of-work nonce is invalid")
    indices = draw_query_positions(transcript, domain.lde_size, options.num_queries)

    chunk_columns = 2 * domain.num_quotient_chunks
    quotient_width = chunk_columns + (2 if options.zero_knowledge else 0)
    salted = options.zero_knowledge
    _check_opening("main trace", proof.main_root, proof.main_opening, indices, air.main_width,
                   domain.lde_size, salted, options.hasher)  # fmt: skip
    if proof.aux_opening is not None:
        _check_opening("aux trace", proof.aux_root, proof.aux_opening, indices, 2 * air.aux_width,
                       domain.lde_size, salted, options.hasher)  # fmt: skip
    _check_opening("quotient", proof.quotient_root, proof.quotient_opening, indices, quotient_width,
                   domain.lde_size, salted, options.hasher)  # fmt: skip
    if air.preprocessed_width:
        _check_opening("preprocessed", key.root, proof.preprocessed_opening, indices, key.width,
                       domain.lde_size, False, options.hasher)  # fmt: skip

    next_columns = next_row.shifted_indices(air.main_width, air.aux_width)
    n_shifted = air.main_width + 2 * air.aux_width + air.preprocessed_width
    deep = DeepAtQueries(at_z + proof.quotient_at_z, at_zw, n_shifted, next_columns, z, zw, deep_alpha,
                         layout.correction_exponent)  # fmt: skip
    layer0 = {}
    for k, index in enumerate(indices):
        shifted = [int(v) for v in proof.main_opening.rows[k]]
        if proof.aux_opening is not None:
            shifted += [int(v) for v in proof.aux_opening.rows[k]]
        if proof.preprocessed_opening is not None:
            shifted += [int(v) for v in proof.preprocessed_opening.rows[k]]
        quotient_row = [int(v) for v in proof.quotient_opening.rows[k]]
        layer0[index] = deep.at(
            domain.lde_point(index),
            shifted,
            quotient_row[:chunk_columns],
            quotient_row[chunk_columns:] if options.zero_knowledge else None,
        )

    layer_rows = []
    for layer, (root, opening, rows) in enumerate(
        zip(proof.fri_roots, proof.fri_openings, fri.query_positions(layout, indices), strict=True)
    ):
        _check_opening(f"FRI layer {layer}", root, opening, rows, 2 * layout.factor,
                       layout.layer_size(layer + 1), False, options.hasher)  # fmt: skip
        layer_rows.append(
            {
                r: [Ext(int(row[2 * t]), int(row[2 * t + 1])) for t in range(layout.factor)]
                for r, row in zip(rows, opening.rows, strict=True)
            }
        )
    failure = fri.verify_queries(layout, layer_rows, betas, proof.fri_final, indices, layer0)
    if failure is not None:
        raise _reject(failure)
    return VerificationReport(air.name, n, security, size)


def _check_opening(
    what: str, root: bytes, opening: Opening, indices: list[int], width: int, n_rows: int, salted: bool,
    hasher: str,
) -> None:
    if opening.rows.shape != (len(indices), width):
        raise _reject(f"{what} opening has shape {opening.rows.shape}, expected {(len(indices), width)}")
    if not verify_opening(root, n_rows, indices, opening, salted=salted, hasher=hasher):
        raise _reject(f"{what} opening does not match its commitment")


