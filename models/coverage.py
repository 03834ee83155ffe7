"""Measured label coverage: the exact `y(A⊆B)` of a query against every stored label set.

The map's boxes *predict* containment; for any dataset whose class names are known, the
answer can instead be *counted*: the share of A's classes that B also has. This index counts
it for one query at a time, by the rule the training targets use
(`models.targets.containment_targets`): two labels match when their normalized texts are
equal, or when their texts are a given cosine pair (`models.targets.cosine_label_pairs`).
Matching is per pair, never transitive: "a" ~ "b" and "b" ~ "c" do not make "a" ~ "c".

A query is a list of distinct normalized keys, each with the stored keys it matches (itself
when stored, its cosine partners, and for an outside label list its own cosine hits among
the stored labels). Both directions then take one `bincount` over the postings of those keys,
so the work is the number of (query label, dataset) matches, not the number of datasets:

- forward, `y(Q ⊆ B)`: for each query key, the distinct datasets holding a matching key;
- reverse, `y(B ⊆ Q)`: for each stored key matching some query key, the datasets holding it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from models.opaque import is_opaque_key
from models.targets import normalize_label

# Recent row queries kept per index.
_ROW_QUERY_CACHE = 4096
# A matched label is shown as "query ~ stored" when only the cosine rule matched it.
MATCH_SEPARATOR = " ~ "


@dataclass(frozen=True)
class CoverageQuery:
    """One query: its distinct keys (first label text of each) and, per key, the sorted
    stored key ids that it matches."""

    labels: tuple[str, ...]
    keys: tuple[str, ...]
    matches: tuple[np.ndarray, ...]
    row: int | None = None  # the stored row it was made from (its corroborated pairs count)

    def __len__(self) -> int:
        return len(self.keys)

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (query key, matching stored key) pair as `(stored keys, query key index)`,
        computed once per query."""
        cached: tuple[np.ndarray, np.ndarray] | None = self.__dict__.get("_flat")
        if cached is None:
            lengths = np.fromiter((m.size for m in self.matches), dtype=np.int64)
            keys = np.concatenate(self.matches) if self.matches else np.zeros(0, np.int64)
            owner = np.repeat(np.arange(len(self.matches), dtype=np.int64), lengths)
            cached = (keys.astype(np.int64, copy=False), owner)
            object.__setattr__(self, "_flat", cached)
        return cached

    def has_multiple_matches(self) -> bool:
        """Whether some query key matches more than one stored key."""
        return any(m.size > 1 for m in self.matches)

    def owners_by_key(self) -> dict[int, list[int]]:
        """Stored key → the indices of the query keys it matches, computed once per query."""
        cached: dict[int, list[int]] | None = self.__dict__.get("_owners")
        if cached is None:
            cached = {}
            for i, matches in enumerate(self.matches):
                for key in matches.tolist():
                    cached.setdefault(key, []).append(i)
            object.__setattr__(self, "_owners", cached)
        return cached


@dataclass(frozen=True)
class Coverage:
    """Both directions of one query, sparse: only the rows that share something (a query
    touches a few hundred rows of ten thousand, and a request pays for every pass over all
    of them)."""

    n: int
    forward_rows: np.ndarray  # sorted rows with y(Q ⊆ B) > 0
    forward_values: np.ndarray  # their y(Q ⊆ B)
    reverse_rows: np.ndarray  # sorted rows with y(B ⊆ Q) > 0
    reverse_values: np.ndarray  # their y(B ⊆ Q)

    @property
    def forward(self) -> np.ndarray:
        """`(n,)` y(Q ⊆ B_row), 0 where nothing matches."""
        out = np.zeros(self.n)
        out[self.forward_rows] = self.forward_values
        return out

    @property
    def reverse(self) -> np.ndarray:
        """`(n,)` y(B_row ⊆ Q), 0 where nothing matches."""
        out = np.zeros(self.n)
        out[self.reverse_rows] = self.reverse_values
        return out

    def side(self, direction: str) -> tuple[np.ndarray, np.ndarray]:
        """`(rows, values)` of "forward" or "reverse"."""
        if direction == "forward":
            return self.forward_rows, self.forward_values
        return self.reverse_rows, self.reverse_values


def _sorted_positive(values: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, values) of a row → value map, rows sorted, zero values left out."""
    rows = np.asarray(sorted(r for r, v in values.items() if v > 0), dtype=np.int64)
    return rows, np.asarray([values[r] for r in rows.tolist()], dtype=np.float64)


def _csr(groups: np.ndarray, values: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, values sorted by group then value) of `values` grouped by `groups`."""
    order = np.lexsort((values, groups))
    indptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=indptr[1:])
    return indptr, values[order]


class CoverageIndex:
    """Label sets of the rows of one map, indexed for exact coverage queries.

    Args:
        label_sets: each row's labels; duplicates after normalization count once.
        label_pairs: label texts that match by cosine (either order); pairs naming a label
            no row holds are ignored.
        opaque: normalized keys that never match on their own (`models.opaque`); they
            still count in a set's size.
        corroborated: row pairs (a, b) whose opaque keys do match each other.
    """

    def __init__(
        self,
        label_sets: Sequence[Sequence[str]],
        label_pairs: Sequence[tuple[str, str]] = (),
        opaque: Collection[str] = (),
        corroborated: Sequence[tuple[int, int]] = (),
    ) -> None:
        key_ids: dict[str, int] = {}
        key_of_label: dict[str, int] = {}
        vocab: list[str] = []
        row_of: list[int] = []
        row_keys: list[int] = []
        row_texts: list[int] = []  # the vocab index of the row's first text of each key
        text_ids: dict[str, int] = {}
        for row, labels in enumerate(label_sets):
            seen: set[int] = set()
            for label in labels:
                key = key_of_label.get(label)
                if key is None:
                    key = key_ids.setdefault(normalize_label(label), len(key_ids))
                    key_of_label[label] = key
                    text_ids[label] = len(vocab)
                    vocab.append(label)
                if key not in seen:
                    seen.add(key)
                    row_of.append(row)
                    row_keys.append(key)
                    row_texts.append(text_ids[label])
        n, n_keys = len(label_sets), len(key_ids)
        rows = np.asarray(row_of, dtype=np.int64)
        keys = np.asarray(row_keys, dtype=np.int64)
        self._n = n
        self._key_ids = key_ids
        # Stored label text -> its key id: a query label written as some row writes it (the
        # usual case) skips normalization, which costs more than the rest of its lookup.
        self._label_keys = key_of_label
        self._key_texts = list(key_ids)  # key id -> its normalized text (dicts keep order)
        # Row queries are asked again and again (every /related of a dataset): keep the
        # recent ones. Each holds views into the index, so the cache costs little.
        self._row_queries: OrderedDict[int, CoverageQuery] = OrderedDict()
        self._row_queries_lock = threading.Lock()
        self._vocab = tuple(vocab)
        self._vocab_keys = np.asarray([key_of_label[v] for v in vocab], dtype=np.int64)
        # Rows are stored in label order: a row's own query lists its classes as written.
        self._row_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=self._row_ptr[1:])
        self._row_keys = keys
        self._row_texts = np.asarray(row_texts, dtype=np.int64)
        self._sizes = np.diff(self._row_ptr)
        self._hidden = np.zeros(n_keys, dtype=bool)
        self._hidden[[key_ids[k] for k in opaque if k in key_ids]] = True
        visible = ~self._hidden[keys]
        # Postings hold visible keys only: an opaque key finds no row on its own.
        self._post_ptr, self._post_rows = _csr(keys[visible], rows[visible], n_keys)
        src, dst = [np.arange(n_keys, dtype=np.int64)], [np.arange(n_keys, dtype=np.int64)]
        for a, b in label_pairs:
            ka, kb = key_ids.get(normalize_label(a), -1), key_ids.get(normalize_label(b), -1)
            if ka >= 0 and kb >= 0 and ka != kb:
                src.append(np.array([ka, kb]))
                dst.append(np.array([kb, ka]))
        width = max(n_keys, 1)
        codes = np.unique(np.concatenate(src) * width + np.concatenate(dst))
        # Every match (for corroborated pairs), and those between visible keys (the rest).
        self._all_ptr, self._all_keys = _csr(codes // width, codes % width, n_keys)
        seen_codes = codes[~self._hidden[codes // width] & ~self._hidden[codes % width]]
        self._syn_ptr, self._syn_keys = _csr(seen_codes // width, seen_codes % width, n_keys)
        self._partners: dict[int, set[int]] = {}
        for first, second in corroborated:
            if first != second:
                self._partners.setdefault(first, set()).add(second)
                self._partners.setdefault(second, set()).add(first)

    def __len__(self) -> int:
        return self._n

    @property
    def vocab(self) -> tuple[str, ...]:
        """Every distinct stored label text, one per stored text (for cosine lookups)."""
        return self._vocab

    def meaningful(self, labels: Sequence[str]) -> list[str]:
        """The labels that are not opaque here (a stored name this atlas hides, or a new one
        opaque by its form), in their order: what a label-set map places a dataset from."""
        out = []
        for label in labels:
            key, stored = self._key(label)
            hidden = bool(self._hidden[stored]) if stored is not None else is_opaque_key(key)
            if not hidden:
                out.append(label)
        return out

    def knows(self, label: str) -> bool:
        """Whether some row holds a label with this one's normalized key (its cosine
        partners among the stored labels are then known already)."""
        return self._key(label)[1] is not None

    def _key(self, label: str) -> tuple[str, int | None]:
        """`label`'s normalized key and that key's id (None when no row holds it)."""
        stored = self._label_keys.get(label)
        if stored is not None:
            return self._key_texts[stored], stored
        key = normalize_label(label)
        return key, self._key_ids.get(key)

    def sizes(self) -> np.ndarray:
        """Distinct normalized labels per row."""
        return self._sizes

    def _synonyms(self, key: int) -> np.ndarray:
        return self._syn_keys[self._syn_ptr[key] : self._syn_ptr[key + 1]]

    def _all_synonyms(self, key: int) -> np.ndarray:
        return self._all_keys[self._all_ptr[key] : self._all_ptr[key + 1]]

    def is_opaque(self, row: int) -> bool:
        """Whether most of a row's names are opaque (its counted coverage is then mostly
        empty unless corroborated)."""
        held = self._row_keys[self._row_ptr[row] : self._row_ptr[row + 1]]
        return bool(held.size) and int(self._hidden[held].sum()) * 2 > held.size

    def row_query(self, row: int) -> CoverageQuery:
        """Row `row`'s own labels as a query (its coverage equals the training targets)."""
        with self._row_queries_lock:
            cached = self._row_queries.get(row)
            if cached is not None:
                self._row_queries.move_to_end(row)
                return cached
        lo, hi = self._row_ptr[row], self._row_ptr[row + 1]
        keys = self._row_keys[lo:hi].tolist()
        query = CoverageQuery(
            labels=tuple(self._vocab[i] for i in self._row_texts[lo:hi].tolist()),
            keys=tuple(self._key_texts[key] for key in keys),
            matches=tuple(self._synonyms(key) for key in keys),
            row=row,
        )
        query.flat()  # computed once, before the query is shared between threads
        query.owners_by_key()
        with self._row_queries_lock:
            self._row_queries[row] = query
            while len(self._row_queries) > _ROW_QUERY_CACHE:
                self._row_queries.popitem(last=False)
        return query

    def label_query(
        self, labels: Sequence[str], cosine_hits: Sequence[Sequence[int]] | None = None
    ) -> CoverageQuery:
        """An outside label list as a query.

        Args:
            labels: the labels; they are deduplicated by normalized key, first text kept.
            cosine_hits: per label, indices into `vocab` of stored labels whose embedding
                has cosine ≥ τ with it (the caller embeds; None: text matches only).

        Raises:
            ValueError: if cosine_hits does not have one entry per label, or an index is
                outside the vocab.
        """
        if cosine_hits is not None and len(cosine_hits) != len(labels):
            raise ValueError(
                f"cosine_hits needs one entry per label ({len(labels)}), got {len(cosine_hits)}"
            )
        found: dict[str, tuple[str, list[np.ndarray]]] = {}
        for i, label in enumerate(labels):
            key, stored = self._key(label)
            entry = found.get(key)
            # An opaque name matches nothing: a stored one when this atlas hides it, a new
            # one by its form (it could only match by cosine).
            silent = bool(self._hidden[stored]) if stored is not None else is_opaque_key(key)
            if entry is None:
                parts = [self._synonyms(stored)] if stored is not None and not silent else []
                entry = found.setdefault(key, (label, parts))
            if cosine_hits is not None and len(cosine_hits[i]):
                hits = np.asarray(cosine_hits[i], dtype=np.int64)
                if hits.min() < 0 or hits.max() >= len(self._vocab):
                    raise ValueError(f"cosine_hits[{i}] has an index outside the vocab")
                if not silent:
                    matched = self._vocab_keys[hits]
                    entry[1].append(matched[~self._hidden[matched]])
        return CoverageQuery(
            labels=tuple(label for label, _ in found.values()),
            keys=tuple(found),
            matches=tuple(
                np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
                for _, parts in found.values()
            ),
        )

    def coverage(self, query: CoverageQuery) -> Coverage:
        """`y(Q ⊆ B)` and `y(B ⊆ Q)` for every row B that shares a match."""
        return Coverage(self._n, *self.side(query, "forward"), *self.side(query, "reverse"))

    def side(self, query: CoverageQuery, direction: str) -> tuple[np.ndarray, np.ndarray]:
        """`(rows, values)` of one direction of `coverage(query)`, "forward" (`y(Q ⊆ B)`)
        or "reverse" (`y(B ⊆ Q)`): a list ranked in one direction needs only that one.

        Raises:
            ValueError: on another direction.
        """
        if direction not in ("forward", "reverse"):
            raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
        if not len(query):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        flat, owner = query.flat()
        if direction == "forward":
            rows = self._rows_holding(flat)
            if query.has_multiple_matches():
                # A key with several matching keys can find a row twice: count each row once.
                lengths = self._post_ptr[flat + 1] - self._post_ptr[flat]
                rows = np.unique(np.repeat(owner, lengths) * self._n + rows) % self._n
            found, counts = np.unique(rows, return_counts=True)
            values = counts / len(query)
        else:
            found, counts = np.unique(self._rows_holding(np.unique(flat)), return_counts=True)
            values = counts / self._sizes[found]
        row = query.row
        partners = self._partners.get(row) if row is not None else None
        if row is not None and partners:
            shares = dict(zip(found.tolist(), values.tolist(), strict=True))
            for partner in partners:
                shares[partner] = (
                    self._pair_share(row, partner)
                    if direction == "forward"
                    else self._pair_share(partner, row)
                )
            return _sorted_positive(shares)
        return found.astype(np.int64, copy=False), values

    def _pair_share(self, a: int, b: int) -> float:
        """y(a ⊆ b) over every key, opaque ones included (a corroborated pair)."""
        held_a = self._row_keys[self._row_ptr[a] : self._row_ptr[a + 1]]
        held_b = self._row_keys[self._row_ptr[b] : self._row_ptr[b + 1]]
        if held_a.size == 0:
            return 0.0
        covered = sum(
            1
            for key in held_a.tolist()
            if np.intersect1d(self._all_synonyms(key), held_b, assume_unique=True).size
        )
        return covered / held_a.size

    def _rows_holding(self, keys: np.ndarray) -> np.ndarray:
        """Rows holding each of `keys`, concatenated (a row once per key it holds)."""
        if keys.size == 0:
            return np.zeros(0, dtype=np.int64)
        starts = self._post_ptr[keys]
        lengths = self._post_ptr[keys + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = np.repeat(starts, lengths) + (np.arange(total) - offsets)
        out: np.ndarray = self._post_rows[positions]
        return out

    def matched(self, query: CoverageQuery, row: int, limit: int = 20) -> list[str]:
        """The query's labels that row `row` covers, in query order, at most `limit`: the
        query's text when the texts match, `"query ~ stored"` when only cosine does."""
        lo, hi = self._row_ptr[row], self._row_ptr[row + 1]
        held = self._row_keys[lo:hi]
        if held.size == 0:
            return []
        if query.row is not None and row in self._partners.get(query.row, ()):
            return self._matched_slowly(query, row, limit)
        # A list of related datasets asks this per item, and either side may hold hundreds
        # of classes: walk the smaller one against a hash of the other.
        by_key = query.owners_by_key()
        held_list = held.tolist()
        first_hit: dict[int, int] = {}  # query key index -> first matching position in row
        held_keys: Collection[int]  # the row's keys, hashed once
        if len(held_list) <= len(by_key):
            held_keys = set(held_list)
            for position, key in enumerate(held_list):
                for i in by_key.get(key, ()):
                    first_hit.setdefault(i, position)
        else:
            where = {key: position for position, key in enumerate(held_list)}  # keys distinct
            held_keys = where.keys()
            for key, owners in by_key.items():
                at = where.get(key)
                if at is not None:
                    for i in owners:
                        if i not in first_hit or at < first_hit[i]:
                            first_hit[i] = at
        out: list[str] = []
        for i in sorted(first_hit)[:limit]:
            label, own = query.labels[i], self._key_ids.get(query.keys[i])
            if own is not None and own in held_keys:
                out.append(label)
                continue
            stored = self._vocab[int(self._row_texts[lo + first_hit[i]])]
            out.append(f"{label}{MATCH_SEPARATOR}{stored}")
        return out

    def _matched_slowly(self, query: CoverageQuery, row: int, limit: int) -> list[str]:
        """`matched` for a corroborated pair, where opaque names match too."""
        lo, hi = self._row_ptr[row], self._row_ptr[row + 1]
        held = self._row_keys[lo:hi]
        out: list[str] = []
        for label, key in zip(query.labels, query.keys, strict=True):
            if len(out) >= limit:
                break
            own = self._key_ids.get(key)
            if own is None:
                continue
            common = np.intersect1d(self._all_synonyms(own), held, assume_unique=True)
            if common.size == 0:
                continue
            if bool(np.any(common == own)):
                out.append(label)
                continue
            first = int(np.flatnonzero(np.isin(held, common))[0])
            stored = self._vocab[int(self._row_texts[lo + first])]
            out.append(f"{label}{MATCH_SEPARATOR}{stored}")
        return out
