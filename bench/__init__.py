"""Benchmarks: runtime latency, training speed, camera FPS, the model zoo across formats; each prints a Markdown table and writes JSON + PNG."""
