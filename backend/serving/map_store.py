"""An in-memory cache of map arrays, keyed by map id, shared by every request thread.

A map's boxes never change once it is `ready` (the repository only writes boxes while a map
is training), so the arrays of map N can be cached forever under the key N, and each response
is computed from exactly one map's arrays: a reader sees the old map or the new one, never a
mix. What changes is *which* map is published, and a map's status. Those are read from the
database at most once per `ttl_s` (1 s) per process, so requests normally touch no database
at all; a publish in this process calls `forget_records()` and is seen at once, a publish by
another process (the CLI, another worker) within `ttl_s`. Old maps leave by LRU.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from backend.db import repository
from backend.errors import InvalidStateError, NoPublishedMapError, NotFoundError
from backend.serving.labels import LabelIndex
from backend.serving.ranking import BoxIndex

log = logging.getLogger(__name__)

# Maps whose boxes are final: readable and cacheable.
FINAL_STATUSES = ("ready", "published", "retired")
_DEFAULT_MAX_MAPS = 4
_DEFAULT_TTL_S = 1.0


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
    """The (beta, gumbel_beta) the map's network was trained with (see `train_job`)."""
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
    unmeasured = set(record.params.get("unmeasured", ()))
    beta, gumbel_beta = scoring_temperatures(record)
    return LoadedMap(
        record=record,
        ids=ids,
        index={dataset_id: i for i, dataset_id in enumerate(ids)},
        boxes=BoxIndex.build(boxes.lo, boxes.hi, beta, gumbel_beta),
        num_labels=_frozen(boxes.num_labels, np.int64),
        num_examples=_frozen(boxes.num_examples, np.int64),
        downloads=_frozen(boxes.downloads, np.int64),
        licenses=boxes.licenses or (None,) * len(ids),
        measured=_frozen(np.array([i not in unmeasured for i in ids], dtype=bool), bool),
        labels=LabelIndex([label_sets.get(i, ()) for i in ids]),
    )


class MapStore:
    """Thread-safe LRU of `LoadedMap`s; concurrent first requests for a map load it once.

    Args:
        max_maps: how many maps to keep in memory (each is ~ a few MB at 10k boxes).
        loader: reads one map (tests pass a counting one).
        ttl_s: how long the list of maps (ids, statuses) read from the database is trusted.
    """

    def __init__(
        self,
        max_maps: int = _DEFAULT_MAX_MAPS,
        loader: Callable[[Session, repository.MapRecord], LoadedMap] = load_map,
        ttl_s: float = _DEFAULT_TTL_S,
    ) -> None:
        if max_maps < 1:
            raise ValueError(f"max_maps must be >= 1, got {max_maps}")
        self._max = max_maps
        self._loader = loader
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._maps: OrderedDict[int, LoadedMap] = OrderedDict()
        self._loading: dict[int, threading.Lock] = {}
        self._records: dict[int, repository.MapRecord] = {}
        self._records_at = -float("inf")

    def records(self, session: Session) -> dict[int, repository.MapRecord]:
        """Every map's metadata by id, re-read from the database at most once per `ttl_s`."""
        with self._lock:
            if time.monotonic() - self._records_at < self._ttl_s:
                return self._records
        records = {r.id: r for r in repository.list_maps(session)}
        with self._lock:
            self._records, self._records_at = records, time.monotonic()
        return records

    def forget_records(self) -> None:
        """Makes the next request re-read the maps' metadata (after a publish here)."""
        with self._lock:
            self._records_at = -float("inf")

    def record(self, session: Session, map_id: int) -> repository.MapRecord:
        """One map's metadata (cached as `records`; an unknown id is looked up once more).

        Raises:
            NotFoundError: if there is no such map.
        """
        found = self.records(session).get(map_id)
        if found is None:  # created since the last read?
            self.forget_records()
            found = self.records(session).get(map_id)
        if found is None:
            raise NotFoundError(f"no map with id {map_id}")
        return found

    def published_ids(self, session: Session, relation: str) -> list[int]:
        """Ids of the relation's published maps, lowest dimension first."""
        published = [
            r for r in self.records(session).values()
            if r.status == "published" and r.relation == relation
        ]  # fmt: skip
        return [r.id for r in sorted(published, key=lambda r: (r.dim, r.id))]

    def get(self, session: Session, map_id: int) -> LoadedMap:
        """The arrays of map `map_id`.

        Raises:
            NotFoundError: if there is no such map.
            InvalidStateError: if it is still training or failed (its boxes are not final).
        """
        with self._lock:
            loaded = self._maps.get(map_id)
            if loaded is not None:
                self._maps.move_to_end(map_id)
                return loaded
        return self.get_record(session, self.record(session, map_id))

    def get_record(self, session: Session, record: repository.MapRecord) -> LoadedMap:
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

    def published(self, session: Session, relation: str) -> list[LoadedMap]:
        """The relation's published maps, lowest dimension first.

        Which maps are published is known within `ttl_s`; their arrays come from memory.
        """
        return [self.get(session, map_id) for map_id in self.published_ids(session, relation)]

    def scoring_map(self, session: Session, relation: str, map_id: int | None = None) -> LoadedMap:
        """The map scores come from: `map_id` if given, else the highest-dimensional published
        map of `relation` (the most accurate one; the 2-D map is for the picture).

        Raises:
            NoPublishedMapError: if nothing of `relation` is published.
            NotFoundError: if `map_id` does not exist.
            InvalidStateError: if `map_id` is of another relation or not final.
        """
        if map_id is not None:
            loaded = self.get(session, map_id)
            if loaded.record.relation != relation:
                raise InvalidStateError(
                    f"map {map_id} is a {loaded.record.relation} map, not {relation}"
                )
            return loaded
        ids = self.published_ids(session, relation)
        if not ids:
            raise NoPublishedMapError(
                f"no {relation} map is published yet; train one with `task2box train "
                f"--relation {relation}` or POST /api/jobs/train"
            )
        return self.get(session, ids[-1])  # highest dimension

    def evict(self, map_id: int) -> None:
        """Drops a map from memory (its next use reloads it)."""
        with self._lock:
            self._maps.pop(map_id, None)

    def cached_ids(self) -> list[int]:
        """Map ids in memory, least recently used first."""
        with self._lock:
            return list(self._maps)
