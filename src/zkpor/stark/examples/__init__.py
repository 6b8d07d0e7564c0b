"""Example AIRs: small, complete uses of the framework, exercised by the tests and benchmarks."""
