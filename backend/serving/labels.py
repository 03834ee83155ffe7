"""Shared labels between datasets, answered from memory.

`models.targets.shared_labels` normalizes both label lists on every call; a `/related`
response asks it up to 100 times, so the normalized keys of every dataset in a map are
computed once, when the map is loaded, and each query is then a set lookup per label of A.
The answer is the same as `shared_labels` (the tests check it).
"""

from __future__ import annotations

from collections.abc import Sequence

from models.targets import normalize_label

SHARED_LABELS_LIMIT = 20


class LabelIndex:
    """Labels and normalized label keys of the rows of one map.

    Identical label texts are stored once (many Hub datasets share "cat" or "0"), so memory
    grows with the number of distinct labels, not with their total count.
    """

    def __init__(self, label_sets: Sequence[Sequence[str]]) -> None:
        interned: dict[str, str] = {}
        key_of: dict[str, str] = {}
        labels: list[tuple[str, ...]] = []
        keys: list[tuple[str, ...]] = []
        for label_set in label_sets:
            row = tuple(interned.setdefault(label, label) for label in label_set)
            row_keys = []
            for label in row:
                key = key_of.get(label)
                if key is None:
                    normalized = normalize_label(label)
                    key = interned.setdefault(normalized, normalized)
                    key_of[label] = key
                row_keys.append(key)
            labels.append(row)
            keys.append(tuple(row_keys))
        self._labels = labels
        self._keys = keys
        self._keysets = [frozenset(k) for k in keys]

    def __len__(self) -> int:
        return len(self._labels)

    def labels(self, row: int) -> tuple[str, ...]:
        """The labels of a row, in label-id order."""
        return self._labels[row]

    def shared(self, a: int, b: int, limit: int = SHARED_LABELS_LIMIT) -> list[str]:
        """`shared_labels(labels(a), labels(b), limit)`."""
        # One C-level set intersection (it walks the smaller set) first: most pairs in a
        # ranked list share nothing, and then A's labels, possibly thousands, are not walked.
        common = self._keysets[a] & self._keysets[b]
        if not common:
            return []
        return _shared(self._labels[a], self._keys[a], common, limit)

    def shared_with(
        self, labels: Sequence[str], keys: Sequence[str], b: int, limit: int = SHARED_LABELS_LIMIT
    ) -> list[str]:
        """Shared labels of an outside label list (with its `normalize_label` keys) and row b."""
        return _shared(labels, keys, self._keysets[b], limit)


def _shared(
    labels_a: Sequence[str], keys_a: Sequence[str], keyset_b: frozenset[str], limit: int
) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    # Distinct shared keys are keys of B: stop once as many as can exist have been found.
    wanted = min(limit, len(keyset_b))
    for label, key in zip(labels_a, keys_a, strict=True):
        if len(out) >= wanted:
            break
        if key in keyset_b and key not in seen:
            seen.add(key)
            out.append(label)
    return out
