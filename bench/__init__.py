"""Benchmarks: the real bot in its own process against fake platforms in others (see docs/benchmarks.md)."""
