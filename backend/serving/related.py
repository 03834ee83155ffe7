"""Related datasets of a dataset (or of a placed box) in one map: no database work per query
beyond learning which map is published.

Containment lists put the datasets that share counted classes first
(`backend.serving.measured`), then the map's predictions. The map's ranking comes from its
neighbour table (`models.neighbors`) when it can; `models.ranking.rank`
gives the same answer otherwise, and always for placed boxes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy.orm import Session

from backend import schemas
from backend.db import repository
from backend.db.engine import session_scope
from backend.errors import InvalidInputError, InvalidStateError, NotFoundError
from backend.serving.map_store import LoadedMap, MapStore
from backend.serving.measured import MeasuredRanked, rank_measured_first
from backend.serving.views import map_ref
from backend.vocab import DEFAULT_DIRECTION, RELATION_DIRECTIONS, TransferKind
from models.coverage import CoverageIndex, CoverageQuery
from models.ranking import Ranked, rank, rank_bounded, upper_log_intersection

# Per relation: each direction and the score column it ranks by. The first direction of a
# relation (`backend.vocab.RELATION_DIRECTIONS`) lists the B with A inside B, so it ranks by
# P(A⊆B) (`p_in`); the second by P(B⊆A) (`p_contains`).
DIRECTIONS: dict[str, dict[str, str]] = {
    relation: dict(zip(directions, ("p_in", "p_contains"), strict=True))
    for relation, directions in RELATION_DIRECTIONS.items()
}
# Keyed by any string, as requests name relations before they are checked.
_DEFAULT_DIRECTION: dict[str, str] = dict(DEFAULT_DIRECTION.items())
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
        return _DEFAULT_DIRECTION[relation]
    if direction not in allowed:
        raise InvalidInputError(
            f"direction {direction!r} does not apply to {relation}; use one of {sorted(allowed)}"
        )
    return direction


def items(
    loaded: LoadedMap,
    ranked: Ranked,
    *,
    by: str,
    shared: Callable[[int], list[str]],
    measured: Callable[[int], bool],
    measured_scores: dict[int, float] | None = None,
    estimated: frozenset[int] = frozenset(),
) -> list[schemas.RelatedItem]:
    """The ranked rows as response items; `measured_scores` (transfer maps) holds the
    measured score of each measured row, which also makes that row's score `measured`."""
    out = []
    for row, p_in, p_contains in zip(
        ranked.rows.tolist(), ranked.p_in.tolist(), ranked.p_contains.tolist(), strict=True
    ):
        p_in, p_contains = round(p_in, _DECIMALS), round(p_contains, _DECIMALS)
        out.append(
            schemas.RelatedItem(
                id=loaded.ids[row],
                score=p_in if by == "p_in" else p_contains,
                p_in=p_in,
                p_contains=p_contains,
                shared_labels=shared(row),
                measured=measured(row) if measured_scores is None else row in measured_scores,
                measured_score=None if measured_scores is None else measured_scores.get(row),
                kind=_transfer_kind(row, measured_scores, estimated),
            )
        )
    return out


def _transfer_kind(
    row: int, measured_scores: dict[int, float] | None, estimated: frozenset[int]
) -> TransferKind | None:
    if measured_scores is None:  # containment
        return None
    if row in measured_scores:
        return "measured"
    return "estimated" if row in estimated else "predicted"


def estimated_transfers(loaded: LoadedMap, row: int | None, by: str) -> frozenset[int]:
    """For a transfer map, the other rows whose transfer with `row` (in the direction ranked
    by `by`) the map was fitted to an estimate of."""
    if loaded.transfers is None or row is None:
        return frozenset()
    return (
        loaded.transfers.estimated_to(row) if by == "p_in" else loaded.transfers.estimated_from(row)
    )


def measured_transfers(loaded: LoadedMap, row: int | None, by: str) -> dict[int, float] | None:
    """For a transfer map, the measured scores of `row` in the direction ranked by `by`, by the
    other row (`p_in`: row as the source; `p_contains`: row as the target); else None."""
    if loaded.transfers is None:
        return None
    if row is None:
        return {}
    return loaded.transfers.to(row) if by == "p_in" else loaded.transfers.from_(row)


def answerable_from_memory(
    store: MapStore, dataset_id: str, relation: str, map_id: int | None
) -> bool:
    """Whether `related_for_dataset` would touch no database (the common, warm case)."""
    if not store.is_warm(relation, map_id):
        return False
    target = store.cached(map_id if map_id is not None else store.scoring_map_id(relation))
    return target is not None and dataset_id in target.index


def related_for_dataset(
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
    loaded = store.scoring_map(relation, map_id)
    a = loaded.index.get(dataset_id)
    if a is None:
        with session_scope(store.sessions) as session:
            raise _not_in_map(session, dataset_id, loaded)
    by = DIRECTIONS[relation][direction]
    boxes = loaded.boxes

    def rank_map(m: int) -> Ranked:
        ranked = loaded.neighbors.rank(boxes, a, by=by, k=m) if loaded.neighbors else None
        return ranked or rank(boxes, boxes.lo[a], boxes.hi[a], by=by, k=m, exclude=a)

    if loaded.coverage is not None:  # containment: counted classes first, then the map
        coverage = loaded.coverage
        query = coverage.row_query(a)
        result = _measured_first(
            loaded, coverage, query, boxes.lo[a], boxes.hi[a], by, k, a, rank_map
        )
        listed = measured_items(loaded, result, by=by, coverage=coverage, query=query)
    else:
        a_measured = bool(loaded.measured[a])
        listed = items(
            loaded,
            rank_map(k),
            by=by,
            shared=lambda b: loaded.labels.shared(a, b),
            measured=lambda b: a_measured and bool(loaded.measured[b]),
            # Transfer: per pair, was this very transfer measured (what the boxes were
            # fitted to)?
            measured_scores=measured_transfers(loaded, a, by),
            estimated=estimated_transfers(loaded, a, by),
        )
    return schemas.RelatedPublic(
        dataset=dataset_id,
        relation=relation,
        direction=direction,
        map=map_ref(loaded.record),
        items=listed,
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
    query: CoverageQuery | None,
    labels: Sequence[str] | None,
    keys: Sequence[str] | None,
    exclude: int | None = None,
) -> tuple[list[schemas.RelatedItem], list[schemas.RelatedItem]]:
    """(contained_in, contains) of a placed box: both directions, top k each.

    On a containment map with the query's labels, the datasets sharing counted classes come
    first. `exclude` is the placed dataset's own row when it is in the map; on a transfer
    map its measured pairs are then flagged (the box is predicted, the pair's target is
    measured).
    """
    if loaded.coverage is not None and query is not None:
        coverage = loaded.coverage
        lo64, hi64 = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        # The bound `rank` scans every box with does not depend on the direction: when both
        # lists need the map's predictions, it is computed once (`rank_bounded` overwrites
        # what it is given, so each direction gets a copy).
        bound: list[np.ndarray] = []

        def measured_direction(by: str) -> list[schemas.RelatedItem]:
            def rank_map(m: int) -> Ranked:
                if not bound:
                    bound.append(upper_log_intersection(loaded.boxes, lo64, hi64))
                upper = bound[0].copy()
                return rank_bounded(loaded.boxes, lo64, hi64, upper, by=by, k=m, exclude=exclude)

            result = _measured_first(loaded, coverage, query, lo, hi, by, k, exclude, rank_map)
            return measured_items(loaded, result, by=by, coverage=coverage, query=query)

        return measured_direction("p_in"), measured_direction("p_contains")

    def shared(b: int) -> list[str]:
        if labels is None or keys is None:
            return []
        return loaded.labels.shared_with(labels, keys, b)

    def measured(_b: int) -> bool:
        return False  # a placed box is predicted from features, never fitted to targets

    contained_in, contains = (
        items(
            loaded,
            rank(loaded.boxes, lo, hi, by=by, k=k, exclude=exclude),
            by=by,
            shared=shared,
            measured=measured,
            measured_scores=measured_transfers(loaded, exclude, by),
        )
        for by in ("p_in", "p_contains")
    )
    return contained_in, contains


def _measured_first(
    loaded: LoadedMap,
    coverage: CoverageIndex,
    query: CoverageQuery,
    lo: np.ndarray,
    hi: np.ndarray,
    by: str,
    k: int,
    exclude: int | None,
    rank_map: Callable[[int], Ranked],
) -> MeasuredRanked:
    # Only the ranked direction's coverage: the other one is another pass over the postings.
    counted_rows, counted = coverage.side(query, "forward" if by == "p_in" else "reverse")
    return rank_measured_first(
        loaded.boxes,
        np.asarray(lo, dtype=np.float64),
        np.asarray(hi, dtype=np.float64),
        counted_rows,
        counted,
        by=by,
        k=k,
        exclude=exclude,
        rank_predicted=rank_map,
    )


def measured_items(
    loaded: LoadedMap,
    result: MeasuredRanked,
    *,
    by: str,
    coverage: CoverageIndex,
    query: CoverageQuery,
) -> list[schemas.RelatedItem]:
    """Response items of a containment list: the measured group, then the predicted one."""
    out = []
    measured = result.measured
    for row, p_in, p_contains, share in zip(
        measured.rows.tolist(),
        measured.p_in.tolist(),
        measured.p_contains.tolist(),
        result.coverage.tolist(),
        strict=True,
    ):
        share = round(share, _DECIMALS)
        out.append(
            schemas.RelatedItem(
                id=loaded.ids[row],
                score=share,
                p_in=round(p_in, _DECIMALS),
                p_contains=round(p_contains, _DECIMALS),
                shared_labels=coverage.matched(query, row),
                measured=True,
                measured_score=share,
            )
        )
    # The predicted group shares no class: the map's items, as for any list.
    out += items(
        loaded, result.predicted, by=by, shared=lambda _row: [], measured=lambda _row: False
    )
    return out
