"""Containment targets: `y(A⊆B)`, the fraction of A's classes that B's classes cover.

Two labels match when their normalized texts are equal (case, separators, punctuation and
simple plurals ignored) or when their text embeddings have cosine ≥ τ. Everything is
vectorized with NumPy over integer label keys:

1. each dataset becomes a set of label keys (an inverted index gives, per key, the datasets
   that hold it);
2. each key is expanded to the datasets holding any *matching* key (itself, plus cosine
   neighbours);
3. `covered(A, B)` = the number of A's keys whose expansion contains B, counted over blocks
   of A (with `bincount` when a block is dense, by sorting when it is sparse) so memory stays
   bounded even for labels such as "0" or "cat" that thousands of datasets share.

Only pairs that share a candidate label are ever touched. The work is Σ_k df(k)·|A ∋ k|, i.e.
proportional to the number of (A, label, B) matches, which is the size of the answer itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# "001.Black_footed_Albatross" (CUB) and "12) cat": leading class numbers are not the class.
_LEADING_INDEX = re.compile(r"^\s*\d+\s*[.)]\s*(?=\D)")
# Keep the bincount block (rows × datasets) and the gathered matches per block bounded.
_MAX_BLOCK_CELLS = 4_000_000
_MAX_BLOCK_MATCHES = 8_000_000
_COSINE_BLOCK = 2048


def _singular(word: str) -> str:
    # Deliberately simple: both sides go through the same rules, so an imperfect singular
    # ("glasses" → "glass") still matches its partner; only short words are left alone.
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalize_label(label: str) -> str:
    """The text key two labels must share to match.

    NFKC, case-folded, leading class numbers dropped, separators and punctuation turned to
    single spaces, each word singularized (`"Apple_Pies"` → `"apple pie"`). A label that
    normalizes to nothing (`"-"`) keeps its case-folded, stripped text.
    """
    text = unicodedata.normalize("NFKC", label).casefold()
    text = _LEADING_INDEX.sub("", text)
    words = _NON_WORD.sub(" ", text).split()
    key = " ".join(_singular(w) for w in words)
    return key or text.strip()


def label_query_words(query: str) -> list[str]:
    """The normalized words of a class-name search (`normalize_label`'s rule)."""
    return normalize_label(query).split()


def label_matches_query(label: str, words: Sequence[str]) -> bool:
    """Whether a class name matches a search: the query's words occur in its normalized
    words consecutively, the last one as a prefix (so a name is found while it is typed:
    "golden retr" finds "Golden_Retriever", "retrievers" finds "golden retriever").
    """
    if not words:
        return False
    have = normalize_label(label).split()
    n = len(words)
    for start in range(len(have) - n + 1):
        window = have[start : start + n]
        if window[:-1] == list(words[:-1]) and window[-1].startswith(words[-1]):
            return True
    return False


@dataclass(frozen=True)
class SparseTargets:
    """`y(A⊆B)` for pairs with y > 0 and A ≠ B: `values[t] = y(rows[t] ⊆ cols[t])`."""

    rows: np.ndarray  # (m,) int64, index of A
    cols: np.ndarray  # (m,) int64, index of B
    values: np.ndarray  # (m,) float32 in (0, 1]
    n: int

    def to_dense(self) -> np.ndarray:
        """`(n, n)` float32 matrix with 1 on the diagonal (every set contains itself)."""
        dense = np.zeros((self.n, self.n), dtype=np.float32)
        dense[self.rows, self.cols] = self.values
        np.fill_diagonal(dense, 1.0)
        return dense


def unique_labels(label_sets: Sequence[Sequence[str]]) -> list[str]:
    """Every distinct label text, in first-seen order (what to embed for the cosine path)."""
    return list(dict.fromkeys(label for labels in label_sets for label in labels))


def _encode(label_sets: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """CSR (indptr, keys) of each dataset's distinct normalized keys, and the key table."""
    key_ids: dict[str, int] = {}
    cache: dict[str, int] = {}
    indptr = np.zeros(len(label_sets) + 1, dtype=np.int64)
    keys: list[int] = []
    for i, labels in enumerate(label_sets):
        row: set[int] = set()
        for label in labels:
            k = cache.get(label)
            if k is None:
                k = key_ids.setdefault(normalize_label(label), len(key_ids))
                cache[label] = k
            row.add(k)
        keys.extend(sorted(row))
        indptr[i + 1] = len(keys)
    return indptr, np.asarray(keys, dtype=np.int64), key_ids


def cosine_label_pairs(
    vocab: Sequence[str], embeddings: np.ndarray, threshold: float
) -> list[tuple[str, str]]:
    """Pairs of distinct label texts of `vocab` whose embeddings have cosine ≥ threshold.

    Each unordered pair is listed once, in vocab order. This is the expensive half of the
    matching rule (a blocked V×V matmul), so a train job computes it once and keeps the
    pairs with its map: the server then answers coverage queries by the same rule without
    the embeddings (`models.coverage`).

    Raises:
        ValueError: if `embeddings` is not `(len(vocab), d)`.
    """
    if embeddings.shape[0] != len(vocab) or embeddings.ndim != 2:
        raise ValueError(
            f"embeddings must be (len(vocab)={len(vocab)}, d), got shape {embeddings.shape}"
        )
    emb = embeddings.astype(np.float32)
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    out: list[tuple[str, str]] = []
    # Cosine is symmetric: compare each block only with itself and the rows after it (half
    # the matmul work).
    for start in range(0, len(emb), _COSINE_BLOCK):
        sims = emb[start : start + _COSINE_BLOCK] @ emb[start:].T
        r, c = np.nonzero(sims >= threshold)
        upper = c > r
        out.extend(
            (vocab[start + i], vocab[start + j])
            for i, j in zip(r[upper].tolist(), c[upper].tolist(), strict=True)
        )
    return out


def _key_pairs(
    label_pairs: Sequence[tuple[str, str]], key_ids: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of the key pairs (k, k') that matching label texts stand for; pairs
    of labels no dataset uses, or of one key with itself, are dropped."""
    src: list[int] = []
    dst: list[int] = []
    for a, b in label_pairs:
        ka = key_ids.get(normalize_label(a), -1)
        kb = key_ids.get(normalize_label(b), -1)
        if ka >= 0 and kb >= 0 and ka != kb:
            src.extend((ka, kb))
            dst.extend((kb, ka))
    return np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)


def _expanded_postings(
    indptr: np.ndarray, keys: np.ndarray, n_keys: int, pairs: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """CSR over keys: the sorted distinct datasets holding any key that matches key k."""
    n = len(indptr) - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    # Inverted index: datasets per key, grouped by key.
    order = np.argsort(keys, kind="stable")
    post_ptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_keys), out=post_ptr[1:])
    post_ds = owner[order]
    src, dst = pairs
    if src.size == 0:  # text matches only: each key expands to its own postings
        return post_ptr, post_ds
    # Add identity, then for each (k, k') take postings(k') as candidates of k.
    identity = np.arange(n_keys, dtype=np.int64)
    src = np.concatenate([identity, src])
    dst = np.concatenate([identity, dst])
    lengths = post_ptr[dst + 1] - post_ptr[dst]
    gathered = post_ds[_ranges(post_ptr[dst], lengths)]
    key_of = np.repeat(src, lengths)
    codes = np.unique(key_of * n + gathered)  # dedupe (key, dataset) and sort by key
    exp_keys, exp_ds = codes // n, codes % n
    exp_ptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(exp_keys, minlength=n_keys), out=exp_ptr[1:])
    return exp_ptr, exp_ds


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of `arange(s, s + l)` for each (s, l), without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    offsets = np.repeat(ends - lengths, lengths)
    out: np.ndarray = np.repeat(starts, lengths) + (np.arange(total, dtype=np.int64) - offsets)
    return out


def containment_targets(
    label_sets: Sequence[Sequence[str]],
    *,
    vocab: Sequence[str] | None = None,
    embeddings: np.ndarray | None = None,
    cosine_threshold: float = 0.9,
    label_pairs: Sequence[tuple[str, str]] | None = None,
    opaque: Collection[str] = (),
    corroborated: Sequence[tuple[int, int]] = (),
) -> SparseTargets:
    """`y(A⊆B) = |{a ∈ A : a matches some b ∈ B}| / |A|` for every pair sharing a match.

    Args:
        label_sets: each dataset's labels; duplicates after normalization count once, and a
            dataset with no labels contains nothing and is contained in nothing.
        vocab: label texts whose embeddings are given (typically `unique_labels(label_sets)`).
        embeddings: `(len(vocab), d)` array; rows need not be normalized. With `vocab`, labels
            also match when their cosine is ≥ `cosine_threshold`.
        cosine_threshold: τ in [-1, 1].
        label_pairs: instead of vocab and embeddings, the label text pairs that match by
            cosine, as `cosine_label_pairs` returns them.
        opaque: normalized keys that never match on their own (`models.opaque`); they still
            count in |A|.
        corroborated: dataset pairs (a, b) whose opaque keys do match (both directions).

    Returns:
        Sparse targets over dataset indices, pairs with y > 0 and A ≠ B only.

    Raises:
        ValueError: if only one of vocab/embeddings is given, their sizes differ, τ is
            outside [-1, 1], or label_pairs come with vocab and embeddings.
    """
    if (vocab is None) != (embeddings is None):
        raise ValueError("pass both vocab and embeddings, or neither")
    if label_pairs is not None and vocab is not None:
        raise ValueError("pass label_pairs or vocab and embeddings, not both")
    if not -1.0 <= cosine_threshold <= 1.0:
        raise ValueError(f"cosine_threshold must be in [-1, 1], got {cosine_threshold}")
    n = len(label_sets)
    indptr, keys, key_ids = _encode(label_sets)
    empty = np.zeros(0, dtype=np.int64)
    pairs: tuple[np.ndarray, np.ndarray] = (empty, empty)
    if vocab is not None and embeddings is not None and len(vocab):
        label_pairs = cosine_label_pairs(vocab, embeddings, cosine_threshold)
    if label_pairs:
        pairs = _key_pairs(label_pairs, key_ids)
    all_keys, all_ptr, all_pairs = keys, indptr, pairs
    full_sizes = np.diff(indptr)  # every distinct key counts in |A|, opaque ones too
    hidden = np.zeros(len(key_ids), dtype=bool)
    hidden[[key_ids[k] for k in opaque if k in key_ids]] = True
    if hidden.any():  # opaque keys neither match nor lend their cosine partners
        owner = np.repeat(np.arange(n, dtype=np.int64), full_sizes)
        visible = ~hidden[keys]
        keys = keys[visible]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[visible], minlength=n), out=indptr[1:])
        kept = ~hidden[pairs[0]] & ~hidden[pairs[1]]
        pairs = (pairs[0][kept], pairs[1][kept])
    exp_ptr, exp_ds = _expanded_postings(indptr, keys, len(key_ids), pairs)
    sizes = np.diff(indptr)
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    match_len = exp_ptr[keys + 1] - exp_ptr[keys]  # candidates per (A, key) entry
    cumulative = np.concatenate([[0], np.cumsum(match_len)])
    per_row = cumulative[indptr[1:]] - cumulative[indptr[:-1]]
    start = 0
    while start < n:
        stop = _block_end(start, n, per_row)
        lo, hi = indptr[start], indptr[stop]
        block_keys = keys[lo:hi]
        block_rows = np.repeat(np.arange(stop - start, dtype=np.int64), sizes[start:stop])
        lengths = match_len[lo:hi]
        targets = exp_ds[_ranges(exp_ptr[block_keys], lengths)]
        codes = np.repeat(block_rows, lengths) * n + targets
        cells = (stop - start) * n
        if codes.size * 4 < cells:  # sparse block: sorting the matches beats scanning cells
            uniq, counts = np.unique(codes, return_counts=True)
        else:
            dense = np.bincount(codes, minlength=cells)
            uniq = np.flatnonzero(dense)
            counts = dense[uniq]
        a, c = uniq // n + start, uniq % n
        keep = a != c
        a, c = a[keep], c[keep]
        rows_out.append(a)
        cols_out.append(c)
        vals_out.append((counts[keep] / full_sizes[a]).astype(np.float32))
        start = stop
    if corroborated:
        extra = _corroborated(all_ptr, all_keys, all_pairs, corroborated)
        rows_out.append(extra[0])
        cols_out.append(extra[1])
        vals_out.append(extra[2])
    if not rows_out:
        return SparseTargets(empty, empty, np.zeros(0, np.float32), n)
    return _last_wins(
        np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(vals_out), n
    )


def _corroborated(
    indptr: np.ndarray,
    keys: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    corroborated: Sequence[tuple[int, int]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`y` of both directions of each corroborated pair over *every* key (opaque ones
    match there), by the same text-or-cosine rule.

    Grouped by the container: one boolean mask of the keys it holds or matches by cosine,
    then every contained side is counted against it in one pass, so thousands of pairs
    cost no Python loop per pair.
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if not corroborated or keys.size == 0:
        return empty
    both = np.asarray(corroborated, dtype=np.int64).reshape(-1, 2)
    contained = np.concatenate([both[:, 0], both[:, 1]])
    container = np.concatenate([both[:, 1], both[:, 0]])
    sizes = indptr[contained + 1] - indptr[contained]
    keep = (contained != container) & (sizes > 0)
    contained, container, sizes = contained[keep], container[keep], sizes[keep]
    if contained.size == 0:
        return empty
    order = np.argsort(container, kind="stable")
    contained, container, sizes = contained[order], container[order], sizes[order]
    pair_a, pair_b = pairs
    n_keys = int(max(keys.max(), pair_a.max(initial=-1), pair_b.max(initial=-1))) + 1
    held = np.zeros(n_keys, dtype=bool)
    covered = np.zeros(contained.size, dtype=np.int64)
    bounds = np.flatnonzero(np.r_[True, container[1:] != container[:-1], True])
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        own = keys[indptr[container[lo]] : indptr[container[lo] + 1]]
        held[:] = False
        held[own] = True
        reach = held.copy()
        reach[pair_a[held[pair_b]]] = True  # a key matching one of the container's by cosine
        xs, lengths = contained[lo:hi], sizes[lo:hi]
        hits = reach[keys[_ranges(indptr[xs], lengths)]]
        owner = np.repeat(np.arange(hi - lo), lengths)
        covered[lo:hi] = np.bincount(owner, weights=hits, minlength=hi - lo).astype(np.int64)
    found = covered > 0
    return (
        contained[found],
        container[found],
        (covered[found] / sizes[found]).astype(np.float32),
    )


def _last_wins(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int) -> SparseTargets:
    """Sparse targets with one value per pair: a later entry replaces an earlier one."""
    codes = rows * n + cols
    reversed_codes = codes[::-1]
    _, first = np.unique(reversed_codes, return_index=True)
    if first.size == codes.size:  # no pair listed twice: keep the original order
        return SparseTargets(rows, cols, vals, n)
    pick = np.sort(codes.size - 1 - first)
    return SparseTargets(rows[pick], cols[pick], vals[pick], n)


def _block_end(start: int, n: int, per_row: np.ndarray) -> int:
    """The end of the next block of A rows that fits both memory budgets (≥ 1 row)."""
    max_rows = max(1, _MAX_BLOCK_CELLS // max(n, 1))
    stop = min(n, start + max_rows)
    cumulative = np.cumsum(per_row[start:stop])
    fits = int(np.searchsorted(cumulative, _MAX_BLOCK_MATCHES, side="right"))
    return start + max(1, min(fits, stop - start))


def shared_labels(labels_a: Sequence[str], labels_b: Sequence[str], limit: int = 20) -> list[str]:
    """A's labels (A's text and order) whose normalized text also occurs in B, at most `limit`.

    Raises:
        ValueError: if `limit` is negative.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    b_keys = {normalize_label(b) for b in labels_b}
    out: list[str] = []
    seen: set[str] = set()
    for a in labels_a:
        if len(out) >= limit:
            break
        key = normalize_label(a)
        if key in b_keys and key not in seen:
            seen.add(key)
            out.append(a)
    return out
