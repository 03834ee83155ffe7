"""Benchmarks: hierarchy (WordNet/ImageNet), transfer (Taskonomy), speed, crawl and API load.

Each prints a table, can write JSON, and records its last full run in `benchmarks/RESULTS.md`.
"""
