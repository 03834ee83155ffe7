"""Code that only the benchmarks run: the pairwise baselines the paper compares against.

It lives apart so that what the app serves (the rest of `models/`) reads as the product, and
so that the layering test can hold production code to "never imports research code".
"""
