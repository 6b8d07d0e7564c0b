import pytest

from zkpor.stark.params import ProofOptions


@pytest.fixture(params=[True, False], ids=["zk", "no-zk"])
def small_options(request) -> ProofOptions:
    """Cheap options for tests: few queries, little grinding (verify with min_security_bits=0)."""
    return ProofOptions(
        blowup=4,
        num_queries=8,
        grinding_bits=2,
        fri_folding_log=2,
        fri_final_degree=4,
        zero_knowledge=request.param,
    )


@pytest.fixture
def options() -> ProofOptions:
    return ProofOptions(blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4)
