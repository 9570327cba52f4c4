"""Benchmarks run by `make bench`: side-by-side ratios, never timed unit tests."""
