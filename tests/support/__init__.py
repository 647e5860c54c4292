"""Code shared by the tests and the benchmarks: local servers, helpers and checkers."""
