"""An in-memory cache of map arrays, keyed by map id, shared by every request thread.

A map's boxes never change once it is `ready` (the repository only writes boxes while a map
is training), so the arrays of map N can be cached forever under the key N, and each response
is computed from exactly one map's arrays: a reader sees the old map or the new one, never a
mix. What changes is *which* map is published, and a map's status. Those are read from the
database about once per `ttl_s` (1 s) per process, by a background thread while the aged list
is still served, so requests normally touch no database at all; a publish in this process
calls `forget_records()` and is seen at once, a publish by another process (the CLI, another
worker) within about `ttl_s` plus one read. Old maps leave by LRU.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import InvalidStateError, NoPublishedMapError, NotFoundError
from backend.serving.labels import LabelIndex
from models.coverage import CoverageIndex
from models.neighbors import NeighborTable
from models.opaque import opaque_keys
from models.ranking import BoxIndex

log = logging.getLogger(__name__)

# Maps whose boxes are final: readable and cacheable.
FINAL_STATUSES = ("ready", "published", "retired")
_DEFAULT_MAX_MAPS = 4
_DEFAULT_TTL_S = 1.0


class TransferIndex:
    """A transfer map's measured scores by row: `to(a)` = {target row: score} of source a,
    `from_(a)` = {source row: score} of target a.

    Only scores imported by the time the map was created count: those are what its boxes
    were fitted to. Scores imported later are predicted by this map until it is retrained.
    """

    def __init__(
        self,
        pairs: list[tuple[int, int, float]],
        estimated: list[tuple[int, int]] | None = None,
    ) -> None:
        self._to: dict[int, dict[int, float]] = {}
        self._from: dict[int, dict[int, float]] = {}
        for s, t, score in pairs:
            self._to.setdefault(s, {})[t] = score
            self._from.setdefault(t, {})[s] = score
        # Pairs the map was fitted to an estimate of (no measured score): `/related` tags them.
        self._est_to: dict[int, set[int]] = {}
        self._est_from: dict[int, set[int]] = {}
        for s, t in estimated or ():
            if t not in self._to.get(s, {}):
                self._est_to.setdefault(s, set()).add(t)
                self._est_from.setdefault(t, set()).add(s)

    @classmethod
    def load(
        cls, session: Session, record: repository.MapRecord, ids: tuple[str, ...]
    ) -> TransferIndex:
        row = {dataset_id: i for i, dataset_id in enumerate(ids)}
        scores = repository.get_transfer_scores(session, imported_by=record.created_at)
        estimator = record.params.get("estimator")
        estimates = (
            repository.get_transfer_estimates(
                session,
                estimator=str(estimator),
                feature_model=record.params.get("feature_model"),
                estimated_by=record.created_at,
            )
            if estimator
            else []
        )
        return cls(
            [
                (row[s.source_id], row[s.target_id], s.score)
                for s in scores
                if s.source_id in row and s.target_id in row
            ],
            [
                (row[e.source_id], row[e.target_id])
                for e in estimates
                if e.source_id in row and e.target_id in row
            ],
        )

    def to(self, row: int) -> dict[int, float]:
        """Measured scores of `row` as the source, by target row."""
        return self._to.get(row, {})

    def from_(self, row: int) -> dict[int, float]:
        """Measured scores of `row` as the target, by source row."""
        return self._from.get(row, {})

    def estimated_to(self, row: int) -> frozenset[int]:
        """Target rows of `row`'s estimated (not measured) transfers."""
        return frozenset(self._est_to.get(row, ()))

    def estimated_from(self, row: int) -> frozenset[int]:
        """Source rows of the estimated (not measured) transfers to `row`."""
        return frozenset(self._est_from.get(row, ()))

    def has_any(self, row: int) -> bool:
        """Whether `row`'s box was fitted to at least one measured score."""
        return row in self._to or row in self._from


@dataclass(frozen=True, eq=False)
class LoadedMap:
    """One map's boxes and per-box metadata as read-only arrays, row i for `ids[i]`."""

    record: repository.MapRecord
    ids: tuple[str, ...]
    index: dict[str, int]
    boxes: BoxIndex  # corners and their precomputed log-volumes
    num_labels: np.ndarray  # (n,) int64
    num_examples: np.ndarray  # (n,) int64, -1 unknown
    downloads: np.ndarray  # (n,) int64
    licenses: tuple[str | None, ...]
    measured: np.ndarray  # (n,) bool: False where the box was placed from features alone
    labels: LabelIndex
    transfers: TransferIndex | None = None  # transfer maps: the measured pairs they fitted
    neighbors: NeighborTable | None = None  # None: trained before tables, or one is stale
    # Containment maps: the rows' label sets for counted coverage (`backend.serving.measured`)
    coverage: CoverageIndex | None = None
    # The cosine τ the map's label pairs were found at; None: text matches only (trained
    # before the pairs were kept), so outside labels are matched by text too.
    match_threshold: float | None = None

    @property
    def id(self) -> int:
        return self.record.id

    def __len__(self) -> int:
        return len(self.ids)


def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    out: np.ndarray = np.ascontiguousarray(array, dtype=dtype)
    out.setflags(write=False)  # shared across threads: nobody may write into it
    return out


def scoring_temperatures(record: repository.MapRecord) -> tuple[float, float | None]:
    """The (beta, gumbel_beta) the map's network was trained with (see `backend.jobs.train`)."""
    beta = float(record.params.get("beta", 1.0))
    gumbel = record.params.get("gumbel_beta")
    return beta, None if gumbel is None else float(gumbel)


def load_map(session: Session, record: repository.MapRecord) -> LoadedMap:
    """Reads every box of a final map, and its datasets' labels, into a `LoadedMap`."""
    boxes = repository.get_map_boxes(session, map_id=record.id)
    if boxes is None:
        raise NotFoundError(f"no map with id {record.id}")
    ids = tuple(boxes.dataset_ids)
    label_sets = {
        s.dataset_id: s.labels
        for s in repository.get_label_sets(session, dataset_ids=ids, status=None)
    }
    # Only a transfer map has imported scores to fit to; it flags the boxes placed from their
    # features alone. A containment map's boxes are all fitted to its targets.
    transfers = None
    measured = np.ones(len(ids), dtype=bool)
    if record.relation == "transfer":
        transfers = TransferIndex.load(session, record, ids)
        measured = np.array([transfers.has_any(row) for row in range(len(ids))], dtype=bool)
    beta, gumbel_beta = scoring_temperatures(record)
    index = {dataset_id: i for i, dataset_id in enumerate(ids)}
    rows_labels = [label_sets.get(i, ()) for i in ids]
    coverage, match_threshold = None, None
    if record.relation == "containment":
        matches = repository.get_map_label_matches(session, map_id=record.id)
        pairs = matches.pairs if matches is not None else []
        corroborated = [
            (index[a], index[b])
            for a, b in (matches.corroborated if matches is not None else [])
            if a in index and b in index
        ]
        coverage = CoverageIndex(
            rows_labels, pairs, opaque=opaque_keys(rows_labels), corroborated=corroborated
        )
        match_threshold = None if matches is None else matches.threshold
    stored = repository.get_map_neighbors(session, map_id=record.id)
    neighbors = None
    if stored is not None:
        neighbors = NeighborTable.remap(stored.dataset_ids, stored.rows, index)
        if neighbors is None:
            log.warning("map %d: its neighbour table is stale; ranking per request", record.id)
    return LoadedMap(
        record=record,
        ids=ids,
        index=index,
        boxes=BoxIndex.build(boxes.lo, boxes.hi, beta, gumbel_beta),
        num_labels=_frozen(boxes.num_labels, np.int64),
        num_examples=_frozen(boxes.num_examples, np.int64),
        downloads=_frozen(boxes.downloads, np.int64),
        licenses=boxes.licenses or (None,) * len(ids),
        measured=_frozen(measured, bool),
        labels=LabelIndex(rows_labels),
        transfers=transfers,
        neighbors=neighbors,
        coverage=coverage,
        match_threshold=match_threshold,
    )


_collector_lock = threading.Lock()
_collector_pauses = 0
_collector_was_enabled = True


@contextmanager
def _long_lived_objects() -> Iterator[None]:
    """Builds objects that live as long as the process (a loaded map: hundreds of thousands
    of label keys, postings and id tables) out of the cyclic collector's way.

    Each full pass of the collector walks every tracked object while holding the GIL, which
    stalls every request of the worker; while a map loads, passes run again and again over
    a heap that is all new and all alive. So the collector pauses while it loads, and what
    exists afterwards is frozen (moved where passes never look; reference counting still
    frees a dropped map). `bench api` shows the tail latency this removes.
    """
    global _collector_pauses, _collector_was_enabled
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_enabled = gc.isenabled()
        _collector_pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            gc.freeze()
            if _collector_pauses == 0 and _collector_was_enabled:
                gc.enable()


class MapStore:
    """Thread-safe LRU of `LoadedMap`s over the database; concurrent first reads load once.

    The store opens its own short sessions, and only when it must (a refresh of the map list,
    a map not yet in memory), so a warm request does no database work and needs no session.

    Args:
        sessions: where maps are read from.
        max_maps: how many maps to keep in memory (each is ~ a few MB at 10k boxes).
        loader: reads one map (tests pass a counting one).
        ttl_s: how long the list of maps (ids, statuses) read from the database is trusted.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        max_maps: int = _DEFAULT_MAX_MAPS,
        loader: Callable[[Session, repository.MapRecord], LoadedMap] = load_map,
        ttl_s: float = _DEFAULT_TTL_S,
    ) -> None:
        if max_maps < 1:
            raise ValueError(f"max_maps must be >= 1, got {max_maps}")
        self.sessions = sessions
        self._max = max_maps
        self._loader = loader
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._maps: OrderedDict[int, LoadedMap] = OrderedDict()
        self._loading: dict[int, threading.Lock] = {}
        self._records: dict[int, repository.MapRecord] = {}
        self._records_at = -float("inf")
        self._refreshing = 0  # threads reading the map list right now
        self._generation = 0  # bumped by forget_records()

    # --- the list of maps ---------------------------------------------------------------

    def has_records(self) -> bool:
        """Whether a map list can be served without the caller reading the database: one
        was read and not forgotten since (an aged one is served while being re-read)."""
        with self._lock:
            return self._records_at > -float("inf")

    def records(self) -> dict[int, repository.MapRecord]:
        """Every map's metadata by id, re-read from the database about once per `ttl_s`.

        Stale-while-revalidate: once the list is older than `ttl_s`, the aged list is still
        returned and one background thread re-reads it, so no request waits on the database
        merely because a second has passed (under load, each refresh used to send a burst of
        requests through the thread pool). A list that was never read, or was forgotten
        (`forget_records()`, after a publish in this process), is read in the caller's thread:
        nobody gets the old list after a publish here.
        """
        with self._lock:
            if time.monotonic() - self._records_at < self._ttl_s:
                return self._records
            if self._records_at > -float("inf"):
                if not self._refreshing:
                    self._refreshing += 1
                    threading.Thread(
                        target=self._refresh_quietly,
                        args=(self._generation,),
                        name="map-list-refresh",
                        # Not a daemon: a daemon thread still reading (or logging) while the
                        # interpreter finalizes can abort the process at exit; this one ends
                        # within one short query, so exit waits for it instead.
                        daemon=False,
                    ).start()
                return self._records
            self._refreshing += 1
            generation = self._generation
        return self._read_records(generation)

    def _read_records(self, generation: int) -> dict[int, repository.MapRecord]:
        """Reads the list (the caller has counted itself in `_refreshing`)."""
        try:
            with session_scope(self.sessions) as session:
                records = {r.id: r for r in repository.list_maps(session)}
        finally:
            with self._lock:
                self._refreshing -= 1
        with self._lock:
            self._records = records
            # A publish in between may not be in what was read: then it stays stale.
            if generation == self._generation:
                self._records_at = time.monotonic()
        return records

    def _refresh_quietly(self, generation: int) -> None:
        try:
            self._read_records(generation)
        except Exception:  # the aged list keeps being served; the next request retries
            log.warning("re-reading the map list failed", exc_info=True)

    def forget_records(self) -> None:
        """Makes the next request re-read the maps' metadata (after a publish here)."""
        with self._lock:
            self._records_at = -float("inf")
            self._generation += 1

    def record(self, map_id: int) -> repository.MapRecord:
        """One map's metadata, from the cached list when it is final there; an unknown or
        still-training map is looked up again (it may have been created or published since).

        Raises:
            NotFoundError: if there is no such map.
        """
        found = self.records().get(map_id)
        if found is None or found.status not in FINAL_STATUSES:
            self.forget_records()
            found = self.records().get(map_id)
        if found is None:
            raise NotFoundError(f"no map with id {map_id}")
        return found

    def published_ids(self, relation: str) -> list[int]:
        """Ids of the relation's published maps, lowest dimension first."""
        published = [
            r for r in self.records().values() if r.status == "published" and r.relation == relation
        ]
        return [r.id for r in sorted(published, key=lambda r: (r.dim, r.id))]

    # --- map arrays ---------------------------------------------------------------------

    def cached(self, map_id: int) -> LoadedMap | None:
        """The map's arrays if they are in memory (never touches the database)."""
        with self._lock:
            return self._maps.get(map_id)

    def get(self, map_id: int) -> LoadedMap:
        """The arrays of map `map_id`, loaded on first use.

        Raises:
            NotFoundError: if there is no such map.
            InvalidStateError: if it is still training or failed (its boxes are not final).
        """
        with self._lock:
            loaded = self._maps.get(map_id)
            if loaded is not None:
                self._maps.move_to_end(map_id)
                return loaded
        return self.get_record(self.record(map_id))

    def get_record(self, record: repository.MapRecord) -> LoadedMap:
        """Like `get`, for a record the caller has already read."""
        if record.status not in FINAL_STATUSES:
            raise InvalidStateError(
                f"map {record.id} is {record.status}; only ready, published or retired maps "
                "can be read"
            )
        with self._lock:
            loaded = self._maps.get(record.id)
            if loaded is not None:
                self._maps.move_to_end(record.id)
                return loaded
            gate = self._loading.setdefault(record.id, threading.Lock())
        with gate:  # one loader per map; the others wait for its result
            with self._lock:
                loaded = self._maps.get(record.id)
            if loaded is None:
                with session_scope(self.sessions) as session, _long_lived_objects():
                    loaded = self._loader(session, record)
                log.info("loaded map %d (%d boxes) into memory", record.id, len(loaded))
                with self._lock:
                    self._maps[record.id] = loaded
                    while len(self._maps) > self._max:
                        self._maps.popitem(last=False)
            with self._lock:
                self._loading.pop(record.id, None)
                self._maps.move_to_end(record.id)
        return loaded

    def published(self, relation: str) -> list[LoadedMap]:
        """The relation's published maps, lowest dimension first."""
        return [self.get(map_id) for map_id in self.published_ids(relation)]

    def scoring_map_id(self, relation: str) -> int:
        """The highest-dimensional published map of `relation` (the most accurate scores;
        the 2-D map is for the picture).

        Raises:
            NoPublishedMapError: if nothing of `relation` is published.
        """
        ids = self.published_ids(relation)
        if not ids:
            first = (
                "import measured scores with `task2box import-transfer FILE.csv` (or POST "
                "/api/transfer-scores), then "
                if relation == "transfer"
                else ""
            )
            raise NoPublishedMapError(
                f"no {relation} map is published yet; {first}train one with `task2box train "
                f"--relation {relation}` or POST /api/jobs/train"
            )
        return ids[-1]

    def scoring_map(self, relation: str, map_id: int | None = None) -> LoadedMap:
        """The map scores come from: `map_id` if given, else `scoring_map_id(relation)`.

        Raises:
            NoPublishedMapError: if nothing of `relation` is published (and none was named).
            NotFoundError: if `map_id` does not exist.
            InvalidStateError: if `map_id` is of another relation or not final.
        """
        loaded = self.get(self.scoring_map_id(relation) if map_id is None else map_id)
        if loaded.record.relation != relation:
            raise InvalidStateError(
                f"map {loaded.id} is a {loaded.record.relation} map, not {relation}"
            )
        return loaded

    def is_warm(self, relation: str, map_id: int | None) -> bool:
        """Whether `scoring_map(relation, map_id)` would touch no database: the map list was
        read (an aged one is fine: it is re-read in the background) and the map is in memory
        (routes then answer without a thread hop)."""
        if not self.has_records():
            return False
        try:
            target = self.scoring_map_id(relation) if map_id is None else map_id
        except NoPublishedMapError:
            return False
        return self.cached(target) is not None
