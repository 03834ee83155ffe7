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
from models import heldout
from models.metrics import best_f1
from models.setbox import LabelSets
from models.setbox_map import fit_set_map, set_map_config
from models.targets import SparseTargets, containment_targets, unique_labels

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
    # The label-set map fit on those targets, per dimension (0 when not run): seconds, the
    # epochs it ran (early stopping on held-out datasets) and its validation F1.
    set_fit_s: dict[int, float]
    set_epochs_run: dict[int, int]
    set_val_f1: dict[int, float]

    def as_dict(self) -> dict[str, object]:
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


def synthetic_embeddings(vocab: list[str], rng: np.random.Generator) -> np.ndarray:
    """Random 384-d directions, with 5% of labels placed next to another (near-synonyms)."""
    emb = rng.normal(size=(len(vocab), _EMBED_DIM)).astype(np.float32)
    twins = rng.choice(len(vocab), size=len(vocab) // 20, replace=False)
    partners = rng.integers(0, len(vocab), size=twins.size)
    emb[twins] = emb[partners] + 0.2 * rng.normal(size=(twins.size, _EMBED_DIM))
    return emb


def time_set_fit(
    sets: list[list[str]],
    vocab: list[str],
    emb: np.ndarray,
    targets: SparseTargets,
    dim: int,
    epochs: int,
) -> tuple[float, int, float]:
    """(seconds, epochs run, validation F1) of a label-set map fit as the train job runs it:
    10% of the datasets held out, early stopping on them (no refit)."""
    row = {label: i for i, label in enumerate(vocab)}
    label_sets = LabelSets.from_lists([[row[x] for x in dict.fromkeys(s)] for s in sets])
    started = time.perf_counter()
    split = heldout.split(targets, 0.1, seed=0)
    config = set_map_config(dim, epochs, device="cpu")
    model = fit_set_map(emb, label_sets, split.train, config, val=split.val)
    seconds = time.perf_counter() - started
    f1 = 0.0
    if split.val is not None and len(split.val):
        y = split.val.y > heldout.POSITIVE_MIN_Y
        f1 = best_f1(y.astype(np.float32), model.predict_pairs(split.val.i, split.val.j))
    return round(seconds, 1), model.best_epoch, round(f1, 3)


def run(
    sizes: list[int],
    seed: int = 0,
    cosine: float = 0.9,
    set_dims: tuple[int, ...] = (),
    set_epochs: int = 400,
) -> list[TargetsRow]:
    """Times the text-only and the text+cosine paths at each size, and with `set_dims` a
    label-set map fit on the text+cosine targets."""
    rows = []
    for n in sizes:
        sets = synthetic_label_sets(n, seed)
        vocab = unique_labels(sets)
        emb = synthetic_embeddings(vocab, np.random.default_rng(seed))
        t0 = time.perf_counter()
        text = containment_targets(sets)
        t1 = time.perf_counter()
        both = containment_targets(sets, vocab=vocab, embeddings=emb, cosine_threshold=cosine)
        t2 = time.perf_counter()
        fits = {d: time_set_fit(sets, vocab, emb, both, d, set_epochs) for d in set_dims}
        rows.append(
            TargetsRow(
                datasets=n,
                unique_labels=len(vocab),
                label_slots=sum(len(s) for s in sets),
                pairs=int(text.values.size),
                text_s=round(t1 - t0, 3),
                cosine_pairs=int(both.values.size),
                cosine_s=round(t2 - t1, 3),
                set_fit_s={d: f[0] for d, f in fits.items()},
                set_epochs_run={d: f[1] for d, f in fits.items()},
                set_val_f1={d: f[2] for d, f in fits.items()},
            )
        )
    return rows
