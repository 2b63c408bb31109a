"""Benchmarks: scripts that measure, print a Markdown table and write JSON (+ PNG). Nothing imports bench/."""
