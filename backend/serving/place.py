"""Placing an unseen dataset: its features → one forward pass of a map's network → its box
and its related datasets in both directions. Nothing is stored.

`POST /api/place` and `task2box place` both call `Placer.place`, so they answer alike.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy.orm import Session

from backend import schemas
from backend.config import Settings
from backend.db import repository
from backend.errors import InvalidStateError, NotFoundError
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import LabelTextEmbedder, LabelTextRepresenter
from backend.serving import checkpoints
from backend.serving.map_store import LoadedMap, MapStore
from backend.serving.related import place_items
from backend.serving.views import map_ref
from models.targets import normalize_label
from models.trained import TrainedBoxModel

log = logging.getLogger(__name__)

_MAX_NETWORKS = 4
_DECIMALS = 6


class NetworkCache:
    """Trained networks by map id, loaded from the database once (thread-safe LRU)."""

    def __init__(self, max_maps: int = _MAX_NETWORKS) -> None:
        self._max = max_maps
        self._lock = threading.Lock()
        self._nets: OrderedDict[int, TrainedBoxModel] = OrderedDict()

    def get(self, session: Session, record: repository.MapRecord) -> TrainedBoxModel:
        """The network of a map.

        Raises:
            InvalidStateError: if the map has no stored network.
        """
        with self._lock:
            net = self._nets.get(record.id)
            if net is not None:
                self._nets.move_to_end(record.id)
                return net
        data = repository.get_map_checkpoint(session, map_id=record.id)
        if data is None:
            raise InvalidStateError(
                f"map {record.id} has no stored network, so it cannot place datasets; "
                "retrain it with `task2box train`"
            )
        net = checkpoints.from_bytes(data, device="cpu")
        with self._lock:
            self._nets[record.id] = net
            while len(self._nets) > self._max:
                self._nets.popitem(last=False)
        return net


class Placer:
    """Places label lists or known datasets in the published maps.

    Args:
        settings: the label cap used when the maps were trained (`max_embedded_labels`).
        store: the shared map cache.
        embedder: builds the label embedder on first use (loading MiniLM takes seconds, so
            a server that never places anything never loads it).
    """

    def __init__(
        self,
        settings: Settings,
        store: MapStore,
        embedder: Callable[[], LabelTextEmbedder],
        networks: NetworkCache | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._embedder_factory = embedder
        self._embedder: LabelTextEmbedder | None = None
        self._embedder_lock = threading.Lock()
        self._networks = networks or NetworkCache()

    def representer(self) -> LabelTextRepresenter:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self._embedder_factory()
        return LabelTextRepresenter(self._embedder, max_labels=self._settings.max_embedded_labels)

    def place(self, session: Session, request: schemas.PlaceRequest) -> schemas.PlacePublic:
        """The predicted box and related datasets of `request.labels` or `request.dataset_id`.

        Raises:
            NoPublishedMapError: if nothing of the relation is published (and no map named).
            NotFoundError: if the dataset or the named map is unknown.
            InvalidStateError: if a map has no network, or labels cannot give its features.
        """
        scoring = self._store.scoring_map(request.relation, request.map)
        dataset_id = request.dataset_id
        labels = list(request.labels) if request.labels is not None else None
        if dataset_id is not None:
            labels = self._dataset_labels(session, dataset_id)
        features = _Features(self, session, labels, dataset_id)
        box = self._box(session, scoring, features)
        boxes = {str(scoring.id): box}
        for drawn in self._store.published(request.relation):
            if str(drawn.id) not in boxes:
                boxes[str(drawn.id)] = self._box(session, drawn, features)
        lo, hi = np.asarray(box.lo), np.asarray(box.hi)
        keys = None if labels is None else [normalize_label(label) for label in labels]
        exclude = None if dataset_id is None else scoring.index.get(dataset_id)
        contained_in, contains = place_items(
            scoring, lo, hi, k=request.k, labels=labels, keys=keys, exclude=exclude
        )
        return schemas.PlacePublic(
            map=map_ref(scoring.record),
            box=box,
            boxes=dict(sorted(boxes.items(), key=lambda kv: int(kv[0]))),
            contained_in=contained_in,
            contains=contains,
        )

    def _box(self, session: Session, loaded: LoadedMap, features: _Features) -> schemas.BoxPublic:
        net = self._networks.get(session, loaded.record)
        x = features.vector(loaded.record.representation)
        boxes = net.boxes(x[None, :])
        return schemas.BoxPublic(
            lo=[round(float(v), _DECIMALS) for v in boxes.lo[0]],
            hi=[round(float(v), _DECIMALS) for v in boxes.hi[0]],
        )

    def _dataset_labels(self, session: Session, dataset_id: str) -> list[str] | None:
        """The dataset's labels; None for one without (an imported task: stored features)."""
        sets = repository.get_label_sets(session, dataset_ids=[dataset_id], status=None)
        if sets:
            return list(sets[0].labels)
        if repository.get_dataset(session, dataset_id=dataset_id, max_labels=0) is None:
            raise NotFoundError(f"no dataset {dataset_id!r}")
        return None


class _Features:
    """The input's feature vector per representation kind, computed at most once each."""

    def __init__(
        self,
        placer: Placer,
        session: Session,
        labels: Sequence[str] | None,
        dataset_id: str | None,
    ) -> None:
        self._placer = placer
        self._session = session
        self._labels = labels
        self._dataset_id = dataset_id
        self._vectors: dict[str, np.ndarray] = {}

    def vector(self, kind: str) -> np.ndarray:
        if kind not in self._vectors:
            self._vectors[kind] = self._compute(kind)
        return self._vectors[kind]

    def _compute(self, kind: str) -> np.ndarray:
        if self._dataset_id is not None:
            stored = repository.load_representations(
                self._session, kind=kind, dataset_ids=[self._dataset_id]
            )
            if stored.dataset_ids:
                return np.asarray(stored.vectors[0], dtype=np.float32)
        if self._labels is None:
            raise InvalidStateError(
                f"dataset {self._dataset_id!r} has no labels and no stored {kind} features "
                "to place it by"
            )
        if kind != LABEL_TEXT:
            raise InvalidStateError(
                f"this map uses the {kind!r} representation, which cannot be computed from "
                "labels alone; use a label-text map"
            )
        (vector,) = self._placer.representer().dataset_vectors([("placed", self._labels)])
        return np.asarray(vector, dtype=np.float32)
