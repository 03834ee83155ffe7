"""Ranking related datasets from a map's boxes (NumPy, no database work per query).

One query box against every box of the map costs O(N·d) with `models.scoring`, about a
millisecond at N = 10k, and `argpartition` keeps the top-k selection O(N).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy.orm import Session

from backend import schemas
from backend.db import repository
from backend.errors import InvalidInputError, InvalidStateError, NotFoundError
from backend.serving.map_store import LoadedMap, MapStore
from backend.serving.views import map_ref
from models.scoring import containment_to_all

# Per relation: each direction and the score column it ranks by. For containment,
# `contained_in` lists the datasets B that contain A (P(A⊆B)), `contains` those A contains.
# Transfer (issue 7) reads the same two columns; its owner may swap them if the transfer
# map's convention is the other way round.
DIRECTIONS: dict[str, dict[str, str]] = {
    "containment": {"contained_in": "p_in", "contains": "p_contains"},
    "transfer": {"from": "p_in", "to": "p_contains"},
}
DEFAULT_DIRECTION = {"containment": "contained_in", "transfer": "from"}
# Scores are probabilities; six decimals keep responses short and stable.
_DECIMALS = 6


def resolve_direction(relation: str, direction: str | None) -> str:
    """The direction to rank by; the relation's default when none is given.

    Raises:
        InvalidInputError: if the direction belongs to another relation.
    """
    allowed = DIRECTIONS.get(relation)
    if allowed is None:
        raise InvalidInputError(f"relation must be one of {sorted(DIRECTIONS)}, got {relation!r}")
    if direction is None:
        return DEFAULT_DIRECTION[relation]
    if direction not in allowed:
        raise InvalidInputError(
            f"direction {direction!r} does not apply to {relation}; use one of {sorted(allowed)}"
        )
    return direction


def score_all(loaded: LoadedMap, lo_a: np.ndarray, hi_a: np.ndarray) -> dict[str, np.ndarray]:
    """`{"p_in": P(A⊆B_n), "p_contains": P(B_n⊆A)}` against every box of the map."""
    p_in, p_contains = containment_to_all(
        lo_a, hi_a, loaded.lo, loaded.hi, beta=loaded.beta, gumbel_beta=loaded.gumbel_beta
    )
    return {"p_in": p_in, "p_contains": p_contains}


def top_k(score: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Row indices of the k highest scores, best first; ties broken by row (stable)."""
    score = score.copy()
    if exclude is not None:
        score[exclude] = -np.inf
    n = score.shape[0] - (exclude is not None)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.argpartition(-score, k - 1)[:k] if k < score.shape[0] else np.arange(k)
    # lexsort: last key first; rank by score descending, then by row ascending.
    order = np.lexsort((candidates, -score[candidates]))
    return candidates[order]


def items(
    loaded: LoadedMap,
    scores: dict[str, np.ndarray],
    rows: np.ndarray,
    *,
    column: str,
    shared: Callable[[int], list[str]],
    measured: Callable[[int], bool],
) -> list[schemas.RelatedItem]:
    """The ranked rows as response items."""
    return [
        schemas.RelatedItem(
            id=loaded.ids[b],
            score=round(float(scores[column][b]), _DECIMALS),
            p_in=round(float(scores["p_in"][b]), _DECIMALS),
            p_contains=round(float(scores["p_contains"][b]), _DECIMALS),
            shared_labels=shared(b),
            measured=measured(b),
        )
        for b in (int(r) for r in rows)
    ]


def related_for_dataset(
    session: Session,
    store: MapStore,
    *,
    dataset_id: str,
    relation: str = "containment",
    direction: str | None = None,
    k: int = 10,
    map_id: int | None = None,
) -> schemas.RelatedPublic:
    """The datasets most related to `dataset_id` in one map, ranked by the direction's score.

    Raises:
        InvalidInputError: on a direction of another relation or k outside 1..MAX_K.
        NoPublishedMapError: if no map of the relation is published (and none was named).
        NotFoundError: if the dataset or the named map does not exist.
        InvalidStateError: if the dataset has no box in the map (skipped, or newer than it).
    """
    direction = resolve_direction(relation, direction)
    if not 1 <= k <= schemas.MAX_K:
        raise InvalidInputError(f"k must be in 1..{schemas.MAX_K}, got {k}")
    loaded = store.scoring_map(session, relation, map_id)
    a = loaded.index.get(dataset_id)
    if a is None:
        raise _not_in_map(session, dataset_id, loaded)
    scores = score_all(loaded, loaded.lo[a], loaded.hi[a])
    column = DIRECTIONS[relation][direction]
    rows = top_k(scores[column], k, exclude=a)
    a_measured = bool(loaded.measured[a])
    return schemas.RelatedPublic(
        dataset=dataset_id,
        relation=relation,
        direction=direction,
        map=map_ref(loaded.record),
        items=items(
            loaded,
            scores,
            rows,
            column=column,
            shared=lambda b: loaded.labels.shared(a, b),
            measured=lambda b: a_measured and bool(loaded.measured[b]),
        ),
    )


def _not_in_map(session: Session, dataset_id: str, loaded: LoadedMap) -> Exception:
    detail = repository.get_dataset(session, dataset_id=dataset_id, max_labels=0)
    if detail is None:
        return NotFoundError(f"no dataset {dataset_id!r}")
    status = detail.summary.status
    why = f" ({status}: {detail.summary.skip_reason})" if detail.summary.skip_reason else ""
    return InvalidStateError(
        f"dataset {dataset_id!r} is {status}{why} and has no box in map {loaded.id}; "
        "POST /api/place with its dataset_id places it from its labels"
    )


def place_items(
    loaded: LoadedMap,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    k: int,
    labels: Sequence[str] | None,
    keys: Sequence[str] | None,
    exclude: int | None = None,
) -> tuple[list[schemas.RelatedItem], list[schemas.RelatedItem]]:
    """(contained_in, contains) of a placed box: both directions, top k each."""
    scores = score_all(loaded, lo, hi)

    def shared(b: int) -> list[str]:
        if labels is None or keys is None:
            return []
        return loaded.labels.shared_with(labels, keys, b)

    def measured(_b: int) -> bool:
        return False  # a placed box is predicted from features, never fitted to targets

    return tuple(  # type: ignore[return-value]
        items(
            loaded,
            scores,
            top_k(scores[column], k, exclude=exclude),
            column=column,
            shared=shared,
            measured=measured,
        )
        for column in ("p_in", "p_contains")
    )
