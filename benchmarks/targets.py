"""Benchmark of `models.targets.containment_targets` on synthetic Hub-like label sets.

The vocabulary is the built-in catalog's real labels followed by a long synthetic tail, drawn
with Zipf popularity (so "0".."9", "cat" and "dog" recur in thousands of sets, as on the Hub).
A set is a noisy copy of a catalog dataset (15%: a random subset with case/separator/plural
variations), a digit set (10%), or a Zipf(0.7) sample of log-normal size (median 8, clipped
to 2..500; 75%). With these weights the most common label ("0") is in ~20% of the sets,
"cat" in a few percent, as on the Hub.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from backend.catalog import load_catalog
from models.targets import containment_targets, unique_labels

_EMBED_DIM = 384


@dataclass(frozen=True)
class TargetsRow:
    datasets: int
    unique_labels: int
    label_slots: int
    pairs: int
    text_s: float
    cosine_pairs: int
    cosine_s: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _variant(label: str, rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.2:
        return label.upper()
    if roll < 0.4:
        return label.replace(" ", "_")
    if roll < 0.5:
        return label + "s"
    return label


def synthetic_label_sets(n: int, seed: int = 0) -> list[list[str]]:
    """`n` label sets resembling the Hub's image-classification datasets."""
    rng = np.random.default_rng(seed)
    catalog = [list(r.labels) for r in load_catalog()]
    head = ["0", "1", "cat", "dog", "bird", "car", "person", "healthy", "other", "background"]
    vocab = list(dict.fromkeys(head + unique_labels(catalog)))
    vocab += [f"category {i}" for i in range(max(0, 8 * n - len(vocab)))]
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 0.7
    weights /= weights.sum()
    digits = [str(i) for i in range(10)]
    sets: list[list[str]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.15:
            base = catalog[int(rng.integers(len(catalog)))]
            keep = rng.random(len(base)) < rng.uniform(0.5, 1.0)
            sets.append([_variant(x, rng) for x, k in zip(base, keep, strict=True) if k] or base)
        elif roll < 0.25:
            sets.append(digits[: int(rng.integers(2, 11))])
        else:
            size = int(np.clip(rng.lognormal(np.log(8), 1.0), 2, 500))
            picks = rng.choice(len(vocab), size=size, replace=False, p=weights)
            sets.append([vocab[i] for i in picks])
    return sets


def _embeddings(vocab: list[str], rng: np.random.Generator) -> np.ndarray:
    # Random directions, with 5% of labels placed next to another label (near-synonyms).
    emb = rng.normal(size=(len(vocab), _EMBED_DIM)).astype(np.float32)
    twins = rng.choice(len(vocab), size=len(vocab) // 20, replace=False)
    partners = rng.integers(0, len(vocab), size=twins.size)
    emb[twins] = emb[partners] + 0.2 * rng.normal(size=(twins.size, _EMBED_DIM))
    return emb


def run(sizes: list[int], seed: int = 0, cosine: float = 0.9) -> list[TargetsRow]:
    """Times the text-only and the text+cosine paths at each size."""
    rows = []
    for n in sizes:
        sets = synthetic_label_sets(n, seed)
        vocab = unique_labels(sets)
        emb = _embeddings(vocab, np.random.default_rng(seed))
        t0 = time.perf_counter()
        text = containment_targets(sets)
        t1 = time.perf_counter()
        both = containment_targets(sets, vocab=vocab, embeddings=emb, cosine_threshold=cosine)
        t2 = time.perf_counter()
        rows.append(
            TargetsRow(
                datasets=n,
                unique_labels=len(vocab),
                label_slots=sum(len(s) for s in sets),
                pairs=int(text.values.size),
                text_s=round(t1 - t0, 3),
                cosine_pairs=int(both.values.size),
                cosine_s=round(t2 - t1, 3),
            )
        )
    return rows
