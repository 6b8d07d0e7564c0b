"""The prover: trace → commitments → composition → DEEP → FRI → queries → `StarkProof`.

Each step lives in its own module; this file only puts them in protocol order, which is also the
order of the transcript:

 1. statement (AIR digest, options, public inputs; the preprocessed root of the verification key)
 2. main trace commitment            → LogUp challenges β, γ
 3. aux trace commitment (if any)    → composition challenge α
 4. quotient chunks (+ R) commitment → out-of-domain point z
 5. values at z (and at zω where read) → DEEP challenge
 6. FRI layers and final polynomial  → proof-of-work nonce → query indices (with Poseidon2: the
    first nonce whose draw repeats no index, see `statement.grind_for_distinct_queries`)
 7. openings of every commitment at the queries
"""

from __future__ import annotations

import numpy as np

from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.stark import composition, fri
from zkpor.stark.air import Air, AirError
from zkpor.stark.deep import deep_on_lde
from zkpor.stark.domain import ProofDomain
from zkpor.stark.next_row import next_row_columns
from zkpor.stark.params import ProofOptions
from zkpor.stark.phases import phase
from zkpor.stark.polys import (
    CommittedPolys,
    commit_coefficients,
    random_field_matrix,
    recycle,
    trace_coefficients,
)
from zkpor.stark.preprocessed import PreprocessedColumns, absorb_key, commit_preprocessed, key_mismatch
from zkpor.stark.proof import StarkProof
from zkpor.stark.statement import (
    draw_ood_point,
    draw_query_positions,
    grind_for_distinct_queries,
    start_transcript,
)


def fixed_on_evaluation_coset(fixed: CommittedPolys, domain: ProofDomain) -> np.ndarray:
    """The preprocessed columns over the evaluation coset: their committed LDE, or (E > N) a
    transform of their coefficients; the key commits only the N points."""
    if domain.evaluation_stride == 1:
        return fixed.columns
    blowup = domain.evaluation_size // fixed.coefficients.shape[1]
    return ntt.coset_evaluate(fixed.coefficients, blowup, ntt.GENERATOR, degree_bound=fixed.degree_bound)


def prove(
    air: Air,
    trace: np.ndarray,
    options: ProofOptions,
    *,
    check: bool = True,
    preprocessed: PreprocessedColumns | None = None,
) -> StarkProof:
    """Prove that `trace` (shape (main_width, n), uint64) satisfies `air`.

    With `check` (the default) a trace that violates a constraint is refused before anything is
    committed. Tests turn it off to play a cheating prover and watch the verifier reject.
    An AIR with preprocessed columns takes them committed (`commit_preprocessed(air, options)`,
    built once and reused), or commits them here."""
    air.validate_trace(trace)
    domain = ProofDomain.create(air.trace_length, air.max_constraint_degree(), options)
    zk = options.zero_knowledge
    transcript = start_transcript(air, options)
    if air.preprocessed_width:
        if preprocessed is None:
            preprocessed = commit_preprocessed(air, options)
        mismatch = key_mismatch(preprocessed.key, air, domain, options.hasher)
        if mismatch is not None:
            raise AirError(f"{air.name}: {mismatch}")
        absorb_key(transcript, preprocessed.key)
    elif preprocessed is not None:
        raise AirError(f"{air.name}: declares no preprocessed columns")
    fixed = preprocessed.polys if preprocessed is not None else None

    with phase("interpolate"):
        main_coefficients = trace_coefficients(trace, domain, zk)
    main = commit_coefficients(main_coefficients, domain, salted=zk, hasher=options.hasher, evaluated=True)
    transcript.absorb_digest(b"main-root", main.commitment.root)

    challenges = [Ext(*transcript.challenge_ext(b"aux-challenge")) for _ in range(air.num_aux_challenges)]
    aux: CommittedPolys | None = None
    if air.aux_width:
        with phase("aux trace"):
            aux_columns = air.build_aux_trace(trace, challenges)  # (2·aux_width, n) base pairs
        with phase("interpolate"):
            aux_coefficients = trace_coefficients(aux_columns, domain, zk)
        aux = commit_coefficients(aux_coefficients, domain, salted=zk, hasher=options.hasher, evaluated=True)
        transcript.absorb_digest(b"aux-root", aux.commitment.root)

    alpha = Ext(*transcript.challenge_ext(b"composition"))
    with phase("constraint evaluation"):
        q_values = composition.evaluate_on_lde(
            air, domain, main.evaluation_columns, aux.evaluation_columns if aux is not None else None,
            challenges, alpha, fixed_on_evaluation_coset(fixed, domain) if fixed is not None else None,
        )
    for polys in (main, aux):
        if polys is not None:
            polys.release_evaluation()
    with phase("quotient split"):
        try:
            chunks = composition.split_quotient(q_values, domain, zk, strict=check)
        except composition.UnsatisfiedConstraintsError as error:
            raise AirError(f"{air.name}: {error}") from None
    if zk:  # R, the random polynomial mixed into DEEP, of degree < D − 1
        randomizer = np.zeros((2, domain.coefficient_width), dtype=np.uint64)
        randomizer[:, : domain.degree_bound - 1] = random_field_matrix((2, domain.degree_bound - 1))
        chunks = np.concatenate([chunks, randomizer])
    quotient = commit_coefficients(chunks, domain, salted=zk, hasher=options.hasher)
    transcript.absorb_digest(b"quotient-root", quotient.commitment.root)

    z = Ext(*draw_ood_point(transcript, domain.trace_length, domain.lde_size))
    zw = z * domain.omega
    num_chunk_columns = 2 * domain.num_quotient_chunks
    shifted = [main] + ([aux] if aux is not None else []) + ([fixed] if fixed is not None else [])
    next_row = next_row_columns(air, options.hasher)
    next_columns = next_row.shifted_indices(air.main_width, air.aux_width)
    with phase("out-of-domain values"):
        at_z = [v for p in shifted for v in p.evaluate(z)]
        at_zw, offset = [], 0
        for p in shifted:  # the columns read on the next row only
            rows = [c - offset for c in next_columns if offset <= c < offset + p.width]
            if rows:  # read in place: a copy's fresh pages cost more than the products
                at_zw += p.evaluate(zw, rows)
            offset += p.width
        quotient_at_z = quotient.evaluate(z, list(range(num_chunk_columns)))
    for label, values in ((b"ood-z", at_z), (b"ood-zw", at_zw), (b"ood-quotient", quotient_at_z)):
        transcript.absorb_elements(label, [c for v in values for c in (v.c0, v.c1)])

    deep_alpha = Ext(*transcript.challenge_ext(b"deep"))
    layout = fri.FriLayout.for_proof(domain, options)
    with phase("DEEP"):
        deep_values = deep_on_lde(
            domain,
            [p.coefficients for p in shifted],
            quotient.coefficients,
            num_chunk_columns,
            quotient.columns[num_chunk_columns : num_chunk_columns + 2] if zk else None,
            at_z + quotient_at_z,
            at_zw,
            next_columns,
            z,
            deep_alpha,
            layout.correction_exponent,
        )

    with phase("FRI"):
        fri_commitment = fri.commit_phase(deep_values, layout, transcript, options.hasher)
    with phase("grinding"):
        if options.hasher == "poseidon2":  # no repeated query: a compiled verifier's draw count
            pow_nonce = grind_for_distinct_queries(
                transcript, options.grinding_bits, domain.lde_size, options.num_queries
            )
        else:
            pow_nonce = transcript.grind(options.grinding_bits)
    indices = draw_query_positions(transcript, domain.lde_size, options.num_queries)

    layer_rows = fri.query_positions(layout, indices)
    main_width = air.main_width
    aux_end = main_width + 2 * air.aux_width
    main_next, aux_next = len(next_row.main), len(next_row.main) + 2 * len(next_row.aux)
    proof = StarkProof(
        options=options,
        log_trace_length=domain.log_n,
        main_width=main_width,
        aux_width=air.aux_width,
        num_quotient_chunks=domain.num_quotient_chunks,
        main_root=main.commitment.root,
        aux_root=aux.commitment.root if aux is not None else None,
        quotient_root=quotient.commitment.root,
        main_at_z=at_z[:main_width],
        main_at_zw=at_zw[:main_next],
        aux_at_z=at_z[main_width:aux_end],
        aux_at_zw=at_zw[main_next:aux_next],
        quotient_at_z=quotient_at_z,
        fri_roots=[layer.root for layer in fri_commitment.layers],
        fri_final=fri_commitment.final_coefficients,
        pow_nonce=pow_nonce,
        main_opening=main.commitment.open(indices),
        aux_opening=aux.commitment.open(indices) if aux is not None else None,
        quotient_opening=quotient.commitment.open(indices),
        fri_openings=[
            layer.open(rows) for layer, rows in zip(fri_commitment.layers, layer_rows, strict=True)
        ],
        preprocessed_at_z=at_z[aux_end:],
        preprocessed_at_zw=at_zw[aux_next:],
        preprocessed_opening=fixed.commitment.open(indices) if fixed is not None else None,
    )
    # The next proof of this shape writes into these matrices (fresh pages cost more than the
    # arithmetic); the quotient's coefficients are not reused (`split_quotient` makes them).
    for polys, with_coefficients in ((main, zk), (aux, zk), (quotient, False)):
        if polys is not None:
            recycle(polys, with_coefficients)
    return proof
