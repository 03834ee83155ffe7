"""Maps: boxes written in full, published in one transaction, failures never published."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.db import repository as repo
from backend.db.engine import SessionFactory, make_engine, make_session_factory, session_scope
from backend.errors import InvalidStateError, NotFoundError
from tests.factories import T0, dataset_record

IDS = ["a/x", "b/y", "c/z"]


def _seed(session: Session) -> None:
    repo.save_crawl_batch(
        session,
        records=[dataset_record(i, downloads=d) for i, d in zip(IDS, (5, 50, 500), strict=True)],
        crawled_at=T0,
    )


def _ready_map(session: Session, *, dim: int = 2, offset: float = 0.0) -> int:
    record = repo.create_map(
        session, relation="containment", dim=dim, representation="label-text", params={"lr": 1e-3}
    )
    lo = np.zeros((3, dim), np.float32) + offset
    repo.save_map_boxes(session, map_id=record.id, dataset_ids=IDS, lo=lo, hi=lo + 1)
    repo.finish_map(session, map_id=record.id, metrics={"f1": 0.9}, checkpoint=b"weights")
    return record.id


def test_map_life_cycle_and_boxes(session: Session) -> None:
    _seed(session)
    map_id = _ready_map(session, offset=2.0)
    assert repo.get_published_map(session, relation="containment") is None
    published = repo.publish_map(session, map_id=map_id)
    assert published.status == "published" and published.published_at is not None
    assert published.has_checkpoint and published.num_boxes == 3
    assert repo.get_map_checkpoint(session, map_id=map_id) == b"weights"

    boxes = repo.get_map_boxes(session, map_id=map_id)
    assert boxes is not None
    assert boxes.dataset_ids == ["c/z", "b/y", "a/x"]  # most downloaded first
    np.testing.assert_array_equal(boxes.lo, np.full((3, 2), 2.0, np.float32))
    np.testing.assert_array_equal(boxes.hi, np.full((3, 2), 3.0, np.float32))
    assert boxes.num_labels.tolist() == [3, 3, 3]
    assert boxes.num_examples.tolist() == [100, 100, 100]
    assert repo.get_map_boxes(session, map_id=999) is None

    by_map = repo.get_dataset_boxes(session, dataset_id="a/x")
    assert by_map == {map_id: repo.BoxRecord(map_id, (2.0, 2.0), (3.0, 3.0))}
    assert repo.count_published_maps(session) == 1


def test_publishing_retires_the_previous_map_of_same_relation_and_dim(session: Session) -> None:
    _seed(session)
    first = _ready_map(session)
    repo.publish_map(session, map_id=first)
    other_dim = _ready_map(session, dim=8)
    repo.publish_map(session, map_id=other_dim)
    second = _ready_map(session)
    repo.publish_map(session, map_id=second)

    statuses = {m.id: m.status for m in repo.list_maps(session)}
    assert statuses == {first: "retired", other_dim: "published", second: "published"}
    assert repo.get_published_map(session, relation="containment", dim=2).id == second  # type: ignore[union-attr]
    assert repo.get_published_map(session, relation="containment").dim == 2  # type: ignore[union-attr]
    assert repo.get_dataset_boxes(session, dataset_id="a/x").keys() == {other_dim, second}


def test_a_failed_map_never_replaces_a_good_one(session: Session) -> None:
    _seed(session)
    good = _ready_map(session)
    repo.publish_map(session, map_id=good)
    bad = repo.create_map(session, relation="containment", dim=2, representation="label-text")
    nan = np.full((3, 2), np.nan, np.float32)
    with pytest.raises(ValueError, match="non-finite"):
        repo.save_map_boxes(session, map_id=bad.id, dataset_ids=IDS, lo=nan, hi=nan)
    with pytest.raises(InvalidStateError, match="no boxes"):
        repo.finish_map(session, map_id=bad.id, metrics={})
    repo.fail_map(session, map_id=bad.id, error="loss became NaN")
    with pytest.raises(InvalidStateError, match="only a ready map"):
        repo.publish_map(session, map_id=bad.id)
    assert repo.get_published_map(session, relation="containment").id == good  # type: ignore[union-attr]
    assert repo.get_map(session, map_id=bad.id).error == "loss became NaN"  # type: ignore[union-attr]


def test_map_inputs_are_validated(session: Session) -> None:
    _seed(session)
    with pytest.raises(ValueError, match="relation"):
        repo.create_map(session, relation="nope", dim=2, representation="label-text")
    with pytest.raises(ValueError, match="dim"):
        repo.create_map(session, relation="transfer", dim=0, representation="label-text")
    m = repo.create_map(session, relation="transfer", dim=2, representation="label-text")
    ok = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="shape"):
        repo.save_map_boxes(session, map_id=m.id, dataset_ids=IDS, lo=ok[:2], hi=ok[:2])
    with pytest.raises(ValueError, match="lo > hi"):
        repo.save_map_boxes(session, map_id=m.id, dataset_ids=IDS, lo=ok + 1, hi=ok)
    with pytest.raises(NotFoundError, match="unknown dataset"):
        repo.save_map_boxes(session, map_id=m.id, dataset_ids=["a/x", "b/y", "q/q"], lo=ok, hi=ok)
    with pytest.raises(NotFoundError):
        repo.publish_map(session, map_id=12345)
    repo.save_map_boxes(session, map_id=m.id, dataset_ids=IDS, lo=ok, hi=ok + 1)
    with pytest.raises(ValueError, match="non-finite"):
        repo.finish_map(session, map_id=m.id, metrics={"rho": float("nan")})


def test_readers_see_the_old_map_until_the_publish_commits(
    db_url: str, sessions: SessionFactory
) -> None:
    with session_scope(sessions) as s:
        _seed(s)
        old = _ready_map(s)
        repo.publish_map(s, map_id=old)
        new = _ready_map(s, offset=5.0)

    reader_factory = make_session_factory(make_engine(db_url))
    seen_mid_commit: list[Any] = []
    writer_engine = make_engine(db_url)

    @event.listens_for(writer_engine, "commit")
    def _just_before_commit(_conn: Any) -> None:
        # Every statement of publish_map has run on the writer's connection; it is not
        # committed yet. A reader on another connection must still see the old map.
        with session_scope(reader_factory) as reader:
            published = repo.get_published_map(reader, relation="containment", dim=2)
            boxes = repo.get_map_boxes(reader, map_id=published.id)  # type: ignore[union-attr]
            seen_mid_commit.append((published.id, float(boxes.lo[0, 0])))  # type: ignore[union-attr]

    with session_scope(reader_factory) as reader:
        assert repo.get_published_map(reader, relation="containment").id == old  # type: ignore[union-attr]
        with session_scope(make_session_factory(writer_engine)) as writer:
            repo.publish_map(writer, map_id=new)
        # The same reader session, after the commit, sees the new map.
        after = repo.get_published_map(reader, relation="containment")
        assert after is not None and after.id == new

    assert seen_mid_commit and seen_mid_commit[0] == (old, 0.0)


def _training_map(session: Session) -> int:
    record = repo.create_map(
        session, relation="containment", dim=2, representation="label-text", params={}
    )
    lo = np.zeros((3, 2), np.float32)
    repo.save_map_boxes(session, map_id=record.id, dataset_ids=IDS, lo=lo, hi=lo + 1)
    return record.id


def test_neighbour_table_round_trip(session: Session) -> None:
    _seed(session)
    map_id = _training_map(session)
    assert repo.get_map_neighbors(session, map_id=map_id) is None  # none written yet
    rows = {"p_in": np.array([[1], [2], [0]]), "p_contains": np.array([[2], [0], [1]])}
    repo.save_map_neighbors(session, map_id=map_id, dataset_ids=IDS, rows=rows)
    # Written again (a retried job), the table is replaced, not duplicated.
    rows["p_in"] = np.array([[2], [0], [1]])
    repo.save_map_neighbors(session, map_id=map_id, dataset_ids=IDS, rows=rows)
    stored = repo.get_map_neighbors(session, map_id=map_id)
    assert stored is not None and stored.dataset_ids == IDS
    for by in ("p_in", "p_contains"):
        assert stored.rows[by].dtype == np.int32
        np.testing.assert_array_equal(stored.rows[by], rows[by])
    repo.finish_map(session, map_id=map_id, metrics={})
    with pytest.raises(InvalidStateError, match="written while training"):
        repo.save_map_neighbors(session, map_id=map_id, dataset_ids=IDS, rows=rows)


@pytest.mark.parametrize(
    ("ids", "rows", "match"),
    [
        (IDS, {"p_in": np.zeros((3, 1), int)}, "exactly the directions"),
        (IDS, {"p_in": np.zeros((2, 1), int), "p_contains": np.zeros((2, 1), int)}, "shape"),
        (IDS, {"p_in": np.full((3, 1), 0.5), "p_contains": np.zeros((3, 1), int)}, "integer"),
        (IDS, {"p_in": np.full((3, 1), 3), "p_contains": np.full((3, 1), 3)}, "in 0..2"),
        (IDS, {"p_in": np.arange(3)[:, None], "p_contains": np.arange(3)[:, None]}, "own"),
        (["a/x", "a/x", "c/z"], {"p_in": np.ones((3, 1), int), "p_contains": 0}, "duplicates"),
    ],
    ids=["a direction missing", "wrong shape", "not integers", "out of range", "self", "dups"],
)
def test_neighbour_table_rejects_bad_rows(
    session: Session, ids: list[str], rows: dict[str, Any], match: str
) -> None:
    _seed(session)
    map_id = _training_map(session)
    with pytest.raises(ValueError, match=match):
        repo.save_map_neighbors(session, map_id=map_id, dataset_ids=ids, rows=rows)
    with pytest.raises(NotFoundError):
        repo.save_map_neighbors(session, map_id=999, dataset_ids=IDS, rows=rows)


def test_label_matches_round_trip(session: Session) -> None:
    _seed(session)
    map_id = _training_map(session)
    assert repo.get_map_label_matches(session, map_id=map_id) is None  # none written yet
    pairs = [("car", "automobile"), ("Cat", "kitty")]
    repo.save_map_label_matches(session, map_id=map_id, threshold=0.9, pairs=pairs[:1])
    repo.save_map_label_matches(session, map_id=map_id, threshold=0.85, pairs=pairs)  # replaced
    stored = repo.get_map_label_matches(session, map_id=map_id)
    assert stored is not None and stored.threshold == 0.85 and stored.pairs == pairs
    with pytest.raises(ValueError, match="threshold"):
        repo.save_map_label_matches(session, map_id=map_id, threshold=2.0, pairs=[])
    with pytest.raises(ValueError, match="two label texts"):
        repo.save_map_label_matches(session, map_id=map_id, threshold=0.9, pairs=[("a",)])  # type: ignore[list-item]
    repo.finish_map(session, map_id=map_id, metrics={})
    with pytest.raises(InvalidStateError, match="written while training"):
        repo.save_map_label_matches(session, map_id=map_id, threshold=0.9, pairs=pairs)
    with pytest.raises(NotFoundError):
        repo.save_map_label_matches(session, map_id=9999, threshold=0.9, pairs=pairs)
