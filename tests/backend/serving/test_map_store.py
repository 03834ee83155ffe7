"""The map cache: one load per map under concurrency, LRU, states, the scoring map."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlalchemy.orm import Session

from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import InvalidInputError, InvalidStateError, NoPublishedMapError, NotFoundError
from backend.serving.map_store import LoadedMap, MapStore, load_map
from backend.serving.related import resolve_direction
from tests.factories import T0, dataset_record

IDS = ["a/x", "b/y", "c/z"]


def _map(session: Session, dim: int, *, publish: bool = True) -> int:
    record = repository.create_map(
        session, relation="containment", dim=dim, representation="label-text",
        params={"beta": 10.0, "gumbel_beta": None},
    )  # fmt: skip
    lo = np.arange(3 * dim, dtype=np.float32).reshape(3, dim)
    repository.save_map_boxes(session, map_id=record.id, dataset_ids=IDS, lo=lo, hi=lo + 1)
    repository.finish_map(session, map_id=record.id, metrics={})
    if publish:
        repository.publish_map(session, map_id=record.id)
    return record.id


@pytest.fixture
def maps(sessions: SessionFactory) -> dict[int, int]:
    with session_scope(sessions) as session:
        repository.save_crawl_batch(
            session,
            records=[dataset_record(i, labels=("cat", "dogs")) for i in IDS],
            crawled_at=T0,
        )
        return {2: _map(session, 2), 5: _map(session, 5)}


def test_load_map_reads_arrays_labels_and_temperatures(
    sessions: SessionFactory, maps: dict[int, int]
) -> None:
    with session_scope(sessions) as session:
        record = repository.get_map(session, map_id=maps[2])
        assert record is not None
        loaded = load_map(session, record)
    assert set(loaded.ids) == set(IDS) and loaded.boxes.lo.dtype == np.float64
    assert loaded.measured.tolist() == [True] * len(IDS)  # only transfer maps flag boxes
    assert (loaded.boxes.beta, loaded.boxes.gumbel_beta) == (10.0, None)
    assert loaded.labels.shared(0, 1) == ["cat", "dogs"]
    with pytest.raises(ValueError):
        loaded.boxes.lo[0, 0] = 1.0  # shared between threads: read-only


def test_concurrent_first_reads_load_a_map_once(
    sessions: SessionFactory, maps: dict[int, int]
) -> None:
    calls: list[int] = []
    gate = threading.Barrier(8)

    def loader(session: Session, record: repository.MapRecord) -> LoadedMap:
        calls.append(record.id)
        return load_map(session, record)

    store = MapStore(sessions, loader=loader)
    results: list[LoadedMap] = []

    def read() -> None:
        gate.wait()
        results.append(store.get(maps[2]))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [maps[2]] and len({id(r) for r in results}) == 1


def test_lru_and_states(sessions: SessionFactory, maps: dict[int, int]) -> None:
    store = MapStore(sessions, max_maps=1)
    store.get(maps[2])
    store.get(maps[5])
    assert store.cached(maps[5]) is not None and store.cached(maps[2]) is None
    with pytest.raises(NotFoundError):
        store.get(999)
    with session_scope(sessions) as session:
        training = repository.create_map(
            session, relation="containment", dim=2, representation="label-text"
        )
    # Created after the map list was read: an unknown id is looked up once more.
    with pytest.raises(InvalidStateError, match="training"):
        store.get(training.id)


def test_the_map_list_is_reread_after_its_ttl_or_when_forgotten(
    sessions: SessionFactory, maps: dict[int, int]
) -> None:
    store = MapStore(sessions, ttl_s=3600)
    assert store.scoring_map_id("containment") == maps[5]
    with session_scope(sessions) as session:
        newer = _map(session, 5)  # published by "another process"
    assert store.scoring_map_id("containment") == maps[5]  # within the TTL
    assert not store.is_warm("containment", None)  # not loaded yet
    store.forget_records()
    assert store.scoring_map_id("containment") == newer
    store.get(newer)
    assert store.is_warm("containment", None)
    assert MapStore(sessions, ttl_s=0).has_records() is False


def test_scoring_map_is_the_highest_dimension(
    sessions: SessionFactory, maps: dict[int, int]
) -> None:
    store = MapStore(sessions)
    assert store.scoring_map("containment").id == maps[5]
    assert store.scoring_map("containment", maps[2]).id == maps[2]
    assert [m.id for m in store.published("containment")] == [maps[2], maps[5]]
    with pytest.raises(NoPublishedMapError, match="transfer"):
        store.scoring_map("transfer")
    with pytest.raises(InvalidStateError, match="containment map"):
        store.scoring_map("transfer", maps[2])


def test_directions_belong_to_their_relation() -> None:
    assert resolve_direction("containment", None) == "contained_in"
    assert resolve_direction("transfer", None) == "from"
    assert resolve_direction("transfer", "to") == "to"
    for relation, direction in (("containment", "to"), ("transfer", "contains"), ("x", None)):
        with pytest.raises(InvalidInputError):
            resolve_direction(relation, direction)


def test_an_aged_list_is_served_while_one_thread_rereads_it(
    sessions: SessionFactory, maps: dict[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MapStore(sessions, ttl_s=0.0)  # every call finds the list aged
    first = store.records()
    entered, release = threading.Event(), threading.Event()
    real = repository.list_maps
    reads: list[int] = []

    def slow(session: Session, **kw: object) -> list[repository.MapRecord]:
        reads.append(1)
        entered.set()
        assert release.wait(30)
        return real(session)

    monkeypatch.setattr(repository, "list_maps", slow)
    served: list[dict[int, repository.MapRecord]] = []
    reader = threading.Thread(target=lambda: served.append(store.records()))
    reader.start()
    assert entered.wait(30)  # the re-read runs in the background...
    reader.join(30)
    assert served == [first] and served[0] is first  # ...while the caller got the aged list
    assert store.records() is first  # no second query while the first is in flight
    assert store.has_records()
    store.forget_records()
    assert not store.has_records()
    release.set()  # a forgotten list is never served stale: this call reads again
    assert set(store.records()) == set(first)
    assert len(reads) == 2


def test_a_failed_background_reread_keeps_serving_the_aged_list(
    sessions: SessionFactory, maps: dict[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MapStore(sessions, ttl_s=0.0)
    first = store.records()
    failed = threading.Event()

    def broken(session: Session, **kw: object) -> list[repository.MapRecord]:
        failed.set()
        raise RuntimeError("database is locked")

    monkeypatch.setattr(repository, "list_maps", broken)
    assert store.records() is first  # aged: served, and a background re-read starts
    assert failed.wait(30)
    for _ in range(100):  # the failed re-read has finished and counted itself out
        if store.records() is first and store.has_records():
            break
    assert store.records() is first
    assert store.scoring_map_id("containment") == maps[5]


def test_a_loaded_map_is_kept_out_of_the_cyclic_collectors_passes(
    sessions: SessionFactory, maps: dict[int, int]
) -> None:
    # Full collector passes walk every tracked object under the GIL; a loaded map's objects
    # are frozen out of them, and the collector is left as it was found.
    import gc

    gc.unfreeze()
    assert gc.isenabled()
    loaded = MapStore(sessions).get(maps[2])
    assert gc.isenabled() and gc.get_freeze_count() > 0
    assert not any(o is loaded for o in gc.get_objects(generation=2))
    gc.disable()
    try:
        MapStore(sessions).get(maps[5])
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
        gc.unfreeze()
