"""nutag performance benchmark: ``python -m benchmarks.run`` (see BENCHMARKS.md)."""
