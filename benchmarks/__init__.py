"""Benchmarks and the per-agent Mesa reference implementation (benchmarks/reference_model.py)."""
