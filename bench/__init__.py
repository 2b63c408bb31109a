"""Benchmarks: runtime latency, training speed, camera FPS; each prints a Markdown table and writes JSON + PNG."""
