"""Benchmarks: runtime latency, training speed, camera FPS, the field test, the model zoo across formats; each prints a Markdown table and writes JSON + PNG."""
