"""Benchmarks and field tests: may import every package; nothing imports bench/."""
