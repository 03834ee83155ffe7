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
from backend.errors import AtlasError, InvalidInputError, InvalidStateError, NotFoundError
from backend.representations.label_text import KIND as LABEL_TEXT
from backend.representations.label_text import (
    LabelTextEmbedder,
    LabelTextRepresenter,
    NotInMemory,
    memory_only,
)
from backend.serving import checkpoints
from backend.serving.checkpoints import MapNetwork
from backend.serving.map_store import LoadedMap, MapStore
from backend.serving.related import place_items
from backend.serving.views import map_ref
from models.coverage import CoverageIndex, CoverageQuery
from models.device import use_threads
from models.features import cap_labels
from models.setbox_map import SetBoxPlacer
from models.targets import normalize_label

log = logging.getLogger(__name__)

_MAX_NETWORKS = 4
_DECIMALS = 6
# Vocabulary embeddings kept for cosine label matching: one per scoring map in use (the
# containment one, and for a while its predecessor after a publish).
_MAX_VOCABULARIES = 2
# Query labels × vocabulary similarities are computed in blocks of this many vocab rows.
_COSINE_BLOCK = 65_536


class NetworkCache:
    """Trained networks by map id, loaded from the database once (thread-safe LRU)."""

    def __init__(self, max_maps: int = _MAX_NETWORKS) -> None:
        self._max = max_maps
        self._lock = threading.Lock()
        self._nets: OrderedDict[int, MapNetwork] = OrderedDict()

    def get(self, session: Session, record: repository.MapRecord) -> MapNetwork:
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

    def has(self, map_id: int) -> bool:
        """Whether the map's network is in memory (`get` then reads no database)."""
        with self._lock:
            return map_id in self._nets


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
        self._vocab_lock = threading.Lock()
        self._vocabularies: OrderedDict[int, np.ndarray] = OrderedDict()

    def representer(self) -> LabelTextRepresenter:
        return LabelTextRepresenter(
            self.label_embedder(), max_labels=self._settings.max_embedded_labels
        )

    def place(self, session: Session, request: schemas.PlaceRequest) -> schemas.PlacePublic:
        """The predicted box and related datasets of `request.labels` or `request.dataset_id`.

        Raises:
            NoPublishedMapError: if nothing of the relation is published (and no map named).
            NotFoundError: if the dataset or the named map is unknown.
            InvalidStateError: if a map has no network, or labels cannot give its features.
        """
        # A placement's forward pass is a few small matrix products: extra intra-op threads
        # only add their wake-up cost (and the server runs requests side by side anyway), and
        # one thread gives the same digits on every host, from the API and the CLI alike.
        use_threads(1)
        scoring = self._store.scoring_map(request.relation, request.map)
        dataset_id = request.dataset_id
        labels = list(request.labels) if request.labels is not None else None
        if dataset_id is not None:
            labels = self._dataset_labels(session, dataset_id)
            if labels is None and request.relation == "containment":
                raise InvalidInputError(
                    f"dataset {dataset_id!r} has no labels; containment is read from a "
                    "dataset's classes, so it cannot be placed in a containment map"
                )
        features = _Features(self, session, labels, dataset_id)
        box = self._box(session, scoring, features)
        boxes = {str(scoring.id): box}
        for drawn in self._store.published(request.relation):
            if str(drawn.id) not in boxes:
                boxes[str(drawn.id)] = self._box(session, drawn, features)
        lo, hi = np.asarray(box.lo), np.asarray(box.hi)
        exclude = None if dataset_id is None else scoring.index.get(dataset_id)
        query = self._coverage_query(scoring, labels, exclude)
        # The normalized keys only serve a map without coverage (its shared labels).
        keys = (
            None
            if labels is None or (scoring.coverage is not None and query is not None)
            else [normalize_label(label) for label in labels]
        )
        contained_in, contains = place_items(
            scoring, lo, hi, k=request.k, query=query, labels=labels, keys=keys, exclude=exclude
        )
        return schemas.PlacePublic(
            map=map_ref(scoring.record),
            box=box,
            boxes=dict(sorted(boxes.items(), key=lambda kv: int(kv[0]))),
            contained_in=contained_in,
            contains=contains,
        )

    def place_from_memory(self, request: schemas.PlaceRequest) -> schemas.PlacePublic | None:
        """`place(request)` when it reads nothing but memory (the warm case: a millisecond
        of CPU, which a server may spend in its event loop); None when it would read the
        database, a disk cache or a model, where the caller calls `place` from a thread.

        Raises:
            AtlasError: as `place` does.
        """
        if not self._warm_for(request):
            return None
        try:
            # The session is never used when every map and network is in memory.
            with self._store.sessions() as session, memory_only():
                return self.place(session, request)
        except NotInMemory:  # a label's (or the vocabulary's) vectors are on disk only
            return None

    def _warm_for(self, request: schemas.PlaceRequest) -> bool:
        """Whether every map `place(request)` uses is in memory with its network, for a
        label list (a stored dataset's labels are read from the database)."""
        store = self._store
        if (
            request.labels is None
            or self._embedder is None
            or not store.is_warm(request.relation, request.map)
        ):
            return False
        try:
            scoring = store.scoring_map(request.relation, request.map)
        except AtlasError:
            return False
        return all(
            store.cached(map_id) is not None and self._networks.has(map_id)
            for map_id in {scoring.id, *store.published_ids(request.relation)}
        )

    def label_points(
        self, session: Session, *, map_id: int, dataset_id: str
    ) -> schemas.LabelPointsPublic:
        """A stored dataset's classes as points of a label-set map.

        Raises:
            NotFoundError: if the map or the dataset is unknown.
            InvalidStateError: if the map is not drawn by the label-set model, or the dataset
                has no labels.
        """
        use_threads(1)  # as `place`
        loaded = self._store.get(map_id)
        net = self._networks.get(session, loaded.record)
        if not isinstance(net, SetBoxPlacer):
            raise InvalidStateError(
                f"map {map_id} is drawn by the vector model; only label-set maps place "
                "classes as points"
            )
        labels = self._dataset_labels(session, dataset_id)
        if not labels:
            raise InvalidStateError(f"dataset {dataset_id!r} has no labels to draw")
        shown = cap_labels(labels, self.max_labels)
        points = net.points(self.label_embedder().embed_labels(shown))
        return schemas.LabelPointsPublic(
            map=map_ref(loaded.record),
            dataset=dataset_id,
            labels=shown,
            points=[[round(float(v), _DECIMALS) for v in row] for row in points],
        )

    def _coverage_query(
        self, loaded: LoadedMap, labels: Sequence[str] | None, row: int | None
    ) -> CoverageQuery | None:
        """What to count coverage of: a stored row's own labels (exactly its training
        targets), else the given labels, matched by text and, on a map that kept its cosine
        pairs, by MiniLM cosine against every stored label."""
        coverage = loaded.coverage
        if coverage is None:
            return None
        if row is not None:
            return coverage.row_query(row)
        if labels is None:
            return None
        hits = None
        if loaded.match_threshold is not None and coverage.vocab:
            hits = self._cosine_hits(loaded, coverage, labels, loaded.match_threshold)
        return coverage.label_query(labels, hits)

    def _cosine_hits(
        self, loaded: LoadedMap, coverage: CoverageIndex, labels: Sequence[str], threshold: float
    ) -> list[list[int]]:
        """Per label, the vocab indices of stored labels at cosine ≥ threshold with it.

        A label some stored dataset already holds is not searched: the map kept the cosine
        partners of every stored label when it was trained. Of the new labels, only
        `max_labels` (the `cap_labels` sample a dataset's features use) are embedded: a list
        of 10,000 new labels would otherwise take MiniLM minutes. The rest still match by
        text.
        """
        embedder = self.label_embedder()
        new = [label for label in labels if not coverage.knows(label)]
        sample = set(cap_labels(new, self.max_labels)) if new else set()
        positions = [i for i, label in enumerate(labels) if label in sample]
        hits: list[list[int]] = [[] for _ in labels]
        if not positions:
            return hits
        query = embedder.embed_labels([labels[i] for i in positions])
        vocab = self._vocabulary(loaded, coverage, embedder)
        for start in range(0, vocab.shape[0], _COSINE_BLOCK):
            rows, cols = np.nonzero(query @ vocab[start : start + _COSINE_BLOCK].T >= threshold)
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                hits[positions[r]].append(start + c)
        return hits

    def _vocabulary(
        self, loaded: LoadedMap, coverage: CoverageIndex, embedder: LabelTextEmbedder
    ) -> np.ndarray:
        """The unit MiniLM embeddings of every stored label of a map, computed once per map
        (from the embedding cache, which the map's training filled)."""
        with self._vocab_lock:
            found = self._vocabularies.get(loaded.id)
            if found is not None:
                self._vocabularies.move_to_end(loaded.id)
                return found
        vectors = embedder.embed_labels(coverage.vocab)
        with self._vocab_lock:
            self._vocabularies[loaded.id] = vectors
            while len(self._vocabularies) > _MAX_VOCABULARIES:
                self._vocabularies.popitem(last=False)
        return vectors

    @property
    def max_labels(self) -> int:
        """Labels embedded per dataset (`T2B_MAX_EMBEDDED_LABELS`), as training caps them."""
        return self._settings.max_embedded_labels

    def label_embedder(self) -> LabelTextEmbedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self._embedder_factory()
            return self._embedder

    def _box(self, session: Session, loaded: LoadedMap, features: _Features) -> schemas.BoxPublic:
        net = self._networks.get(session, loaded.record)
        if isinstance(net, SetBoxPlacer):
            lo, hi = net.place(features.label_embeddings(loaded.coverage))
        else:
            x = features.vector(loaded.record.representation)
            boxes = net.boxes(x[None, :])
            lo, hi = boxes.lo[0], boxes.hi[0]
        return schemas.BoxPublic(
            lo=[round(float(v), _DECIMALS) for v in lo],
            hi=[round(float(v), _DECIMALS) for v in hi],
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
        self._label_embeddings: dict[tuple[str, ...], np.ndarray] = {}

    def label_embeddings(self, coverage: CoverageIndex | None) -> np.ndarray:
        """What a label-set map places the input from, as training did
        (`backend.jobs.train_inputs.label_set_inputs`): the MiniLM embeddings of its labels
        that are not opaque in that map, capped as training caps them; for a stored dataset
        whose names are all opaque, its name and description. A pasted list of opaque names
        only is placed from those names: there is nothing else to go by."""
        if not self._labels:
            raise InvalidStateError(
                f"dataset {self._dataset_id!r} has no labels; a label-set map places a "
                "dataset from its class names"
            )
        kept = coverage.meaningful(self._labels) if coverage is not None else list(self._labels)
        key = tuple(kept)
        found = self._label_embeddings.get(key)
        if found is not None:
            return found
        embedder = self._placer.label_embedder()
        if kept:
            out = embedder.embed_labels(cap_labels(kept, self._placer.max_labels))
        elif self._dataset_id is not None:
            document = repository.get_dataset_documents(
                self._session, dataset_ids=[self._dataset_id]
            )[self._dataset_id]
            out = embedder.embed_texts([document])
        else:
            out = embedder.embed_labels(cap_labels(self._labels, self._placer.max_labels))
        self._label_embeddings[key] = out
        return out

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
