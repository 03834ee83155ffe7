"""Opaque class names: labels that carry no meaning on their own.

Hub datasets often name their classes `0..9`, `1..5`, `A..Z`, `LABEL_3` or a synset id. Two
datasets whose classes are both called "0".."3" share nothing but the numbering: coffee-bean
grades are not MNIST digits. Matched as text, such names made "coffee beans ⊆ MNIST" a
perfect containment, and at Hub scale ("0" sits in a fifth of all label sets) they filled
the target matrix. So an opaque name never counts as shared on its own.

The rule, checked on the real datasets of `../shared/data/hf` (see `benchmarks/RESULTS.md`):

- **Opaque names**: numbers (and number ranges), single characters, `label_3`/`class 7`
  patterns, WordNet synset ids (`n01440764`); and, in atlases of at least
  `MIN_DATASETS_FOR_SHARE` datasets, any name held by more than `COMMON_SHARE` of them.
- **Corroboration**: two datasets may still share opaque names when their descriptions say
  they are the same kind of data: MiniLM cosine of their name-and-description texts ≥
  `CORROBORATION_COSINE`. Copies of MNIST score 0.92–1.00 against each other; the highest
  pair of *different* datasets among the real examples scores 0.53 (Fashion-MNIST against
  MNIST), and unrelated numbered datasets reach 0.49 (histopathology grades against an
  active-learning sample). No threshold separates genuinely related digit datasets (MNIST
  against SVHN 0.48, USPS 0.24–0.33) from those, so the rule is conservative: only near
  copies corroborate, and the map predicts the rest.
- **Flag**: a dataset whose names are mostly opaque is flagged `opaque_labels`; its classes
  say little, so its counted coverage is empty unless corroborated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from models.targets import normalize_label

# On normalized keys (lowercase, separators as single spaces, words singularized). Short
# numbers only: "737 200" (an aircraft variant) or "2019" name something, "3" does not.
_NUMBER = re.compile(r"^[\d\s.,:/+\-]*\d[\d\s.,:/+\-]*$")
_MAX_OPAQUE_DIGITS = 3
_NUMBERED = re.compile(r"^(?:label|class|cls|category|cat|type|group|c|l)\s?\d+$")
_SYNSET = re.compile(r"^n\d{8}$")
COMMON_SHARE = 0.10
MIN_DATASETS_FOR_SHARE = 200
CORROBORATION_COSINE = 0.80
# Each dataset is corroborated by at most this many others: its most similar texts.
MAX_CORROBORATING = 10
_BLOCK = 2048
# A dataset is flagged when more than this share of its distinct names is opaque.
FLAG_SHARE = 0.5
# Description text read for corroboration and for placing: a card's opening says what the
# data is.
DESCRIPTION_CHARS = 400


def description_document(dataset_id: str, name: str | None, description: str | None) -> str:
    """What a dataset is, in words: its name and the opening of its description (what
    corroborates opaque names, and what places a dataset that has nothing but them)."""
    return f"{name or dataset_id}. {(description or '')[:DESCRIPTION_CHARS]}".strip()


def is_opaque_key(key: str) -> bool:
    """Whether a normalized label key names nothing on its own (by its form alone)."""
    short_number = (
        bool(_NUMBER.match(key)) and sum(ch.isdigit() for ch in key) <= _MAX_OPAQUE_DIGITS
    )
    return len(key) <= 1 or short_number or bool(_NUMBERED.match(key)) or bool(_SYNSET.match(key))


def is_opaque_label(label: str) -> bool:
    """`is_opaque_key` of a raw label."""
    return is_opaque_key(normalize_label(label))


def opaque_keys(label_sets: Sequence[Sequence[str]]) -> set[str]:
    """Every opaque key of an atlas: by form, plus (in a large atlas) the keys held by more
    than `COMMON_SHARE` of its label sets."""
    counts: dict[str, int] = {}
    for labels in label_sets:
        for key in {normalize_label(label) for label in labels}:
            counts[key] = counts.get(key, 0) + 1
    n = len(label_sets)
    common = n >= MIN_DATASETS_FOR_SHARE
    return {
        key
        for key, count in counts.items()
        if is_opaque_key(key) or (common and count > COMMON_SHARE * n)
    }


def has_opaque_labels(labels: Iterable[str], opaque: set[str] | None = None) -> bool:
    """Whether most of a label set's distinct names are opaque (by form, or in `opaque`)."""
    keys = {normalize_label(label) for label in labels}
    if not keys:
        return False
    hidden = sum(1 for key in keys if is_opaque_key(key) or (opaque is not None and key in opaque))
    return hidden > FLAG_SHARE * len(keys)


def corroborated_pairs(
    rows: Sequence[int], text_embeddings: np.ndarray, threshold: float = CORROBORATION_COSINE
) -> list[tuple[int, int]]:
    """Pairs (a, b), a < b, of `rows` whose texts' embeddings have cosine ≥ threshold,
    from each row's `MAX_CORROBORATING` most similar texts.

    The bound keeps the pairs linear in the rows: at Hub scale thousands of digit datasets
    with near-empty cards ("user/digits.") are all alike, and every pair of them would list
    millions of corroborations, each a containment target.

    Args:
        rows: dataset rows that hold opaque names (only they need corroboration).
        text_embeddings: `(len(rows), E)` embeddings of each one's name and description.

    Raises:
        ValueError: if the embeddings are not one per row.
    """
    if text_embeddings.ndim != 2 or text_embeddings.shape[0] != len(rows):
        raise ValueError(
            f"expected ({len(rows)}, E) text embeddings, got shape {text_embeddings.shape}"
        )
    if not rows:
        return []
    unit = text_embeddings / np.maximum(
        np.linalg.norm(text_embeddings, axis=1, keepdims=True), 1e-12
    )
    n = len(rows)
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    k = min(MAX_CORROBORATING, n - 1)
    for start in range(0, n, _BLOCK):
        sims = unit[start : start + _BLOCK] @ unit.T
        own = np.arange(start, min(n, start + _BLOCK))
        sims[own - start, own] = -np.inf  # not itself
        if k <= 0:
            break
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        close = np.take_along_axis(sims, nearest, axis=1) >= threshold
        found_a.append(np.repeat(own, k)[close.ravel()])
        found_b.append(nearest[close])
    if not found_a:
        return []
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    ids = np.asarray(rows, dtype=np.int64)
    lo, hi = np.minimum(ids[a], ids[b]), np.maximum(ids[a], ids[b])
    unique = np.unique(np.stack([lo, hi], axis=1), axis=0)
    return [(int(x), int(y)) for x, y in unique.tolist()]
