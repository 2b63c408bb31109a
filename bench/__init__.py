"""Benchmarks: runtime latency, training speed, camera FPS, the field test; each prints a Markdown table and writes JSON + PNG."""
