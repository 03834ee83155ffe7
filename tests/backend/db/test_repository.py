"""Datasets, labels, representations and transfer scores in the repository."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session

from backend.db import repository as repo
from backend.db.engine import SessionFactory, session_scope
from backend.db.tables import Label
from tests.factories import T0, dataset_record

T1 = T0 + timedelta(days=1)


def _label_rowids(session: Session, dataset_id: str) -> list[int]:
    # SQLite rowids change when rows are deleted and re-inserted: a cheap "was it rewritten?"
    rows = session.execute(
        select(literal_column("rowid")).select_from(Label).where(Label.dataset_id == dataset_id)
    )
    return [r[0] for r in rows]


def test_save_crawl_batch_inserts_datasets_and_labels(session: Session) -> None:
    repo.save_crawl_batch(
        session,
        records=[dataset_record("a/x"), dataset_record("b/y", labels=("0", "1"))],
        crawled_at=T0,
    )
    detail = repo.get_dataset(session, dataset_id="a/x")
    assert detail is not None
    assert detail.labels == ("cat", "dog", "bird")
    assert detail.num_labels == 3
    assert detail.summary.crawled_at == T0
    assert detail.summary.last_modified == T0
    assert detail.splits == {"train": 90, "test": 10}
    assert repo.get_dataset_shas(session, ids=["a/x", "b/y", "nope"]) == {
        "a/x": "a" * 40,
        "b/y": "a" * 40,
    }


def test_labels_are_replaced_only_when_they_change(session: Session) -> None:
    repo.save_crawl_batch(session, records=[dataset_record("a/x")], crawled_at=T0)
    before = _label_rowids(session, "a/x")

    repo.save_crawl_batch(
        session, records=[dataset_record("a/x", sha="b" * 40, downloads=99)], crawled_at=T1
    )
    assert _label_rowids(session, "a/x") == before  # same labels: rows untouched
    detail = repo.get_dataset(session, dataset_id="a/x")
    assert detail is not None and detail.summary.downloads == 99 and detail.sha == "b" * 40

    repo.save_crawl_batch(
        session, records=[dataset_record("a/x", labels=("dog", "cat"))], crawled_at=T1
    )
    detail = repo.get_dataset(session, dataset_id="a/x")
    assert detail is not None and detail.labels == ("dog", "cat") and detail.num_labels == 2
    assert _label_rowids(session, "a/x") != before


def test_failed_record_keeps_a_good_dataset_and_a_new_failure_has_no_sha(
    session: Session,
) -> None:
    repo.save_crawl_batch(session, records=[dataset_record("a/x")], crawled_at=T0)
    failed = dataset_record("a/x", status="failed", error="HTTP 500", labels=(), sha="c" * 40)
    repo.save_crawl_batch(
        session,
        records=[failed, dataset_record("n/new", status="failed", error="boom")],
        crawled_at=T1,
    )
    kept = repo.get_dataset(session, dataset_id="a/x")
    assert kept is not None
    assert kept.summary.status == "ok" and kept.labels == ("cat", "dog", "bird")
    assert kept.error == "HTTP 500" and kept.sha == "a" * 40
    assert repo.get_dataset_shas(session, ids=["n/new"]) == {"n/new": None}


def test_save_crawl_batch_rejects_bad_batches(session: Session) -> None:
    with pytest.raises(ValueError, match="twice"):
        repo.save_crawl_batch(
            session, records=[dataset_record("a/x"), dataset_record("a/x")], crawled_at=T0
        )
    with pytest.raises(ValueError, match=r"1\.\.200"):
        repo.save_crawl_batch(session, records=[dataset_record("x" * 201)], crawled_at=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        repo.save_crawl_batch(
            session, records=[dataset_record()], crawled_at=T0.replace(tzinfo=None)
        )


def test_untrusted_text_is_bounded_on_save(session: Session) -> None:
    record = dataset_record("a/x", labels=("z" * 500,), description="d" * 10_000)
    repo.save_crawl_batch(session, records=[record], crawled_at=T0)
    detail = repo.get_dataset(session, dataset_id="a/x")
    assert detail is not None
    assert detail.labels == ("z" * 200,)
    assert detail.description is not None and len(detail.description) == 4000


def test_a_killed_batch_leaves_earlier_batches_intact(sessions: SessionFactory) -> None:
    with session_scope(sessions) as s:
        repo.save_crawl_batch(s, records=[dataset_record("a/x")], crawled_at=T0)
    # A batch that fails half-way (here: a label violating NOT NULL) rolls back as a whole.
    with pytest.raises(Exception), session_scope(sessions) as s:  # noqa: B017
        repo.save_crawl_batch(
            s,
            records=[dataset_record("b/y"), dataset_record("c/z", labels=(None,))],  # type: ignore[arg-type]
            crawled_at=T0,
        )
    with session_scope(sessions) as s:
        assert set(repo.get_dataset_shas(s, ids=["a/x", "b/y", "c/z"])) == {"a/x"}


def test_update_popularity_touches_only_known_datasets(session: Session) -> None:
    repo.save_crawl_batch(session, records=[dataset_record("a/x")], crawled_at=T0)
    repo.update_popularity(session, stats={"a/x": (500, 7), "ghost/y": (1, 1)}, crawled_at=T1)
    detail = repo.get_dataset(session, dataset_id="a/x")
    assert detail is not None
    assert (detail.summary.downloads, detail.summary.likes) == (500, 7)
    assert detail.summary.crawled_at == T1
    assert repo.get_dataset(session, dataset_id="ghost/y") is None


def _seed_search(session: Session) -> None:
    repo.save_crawl_batch(
        session,
        records=[
            dataset_record("uoft-cs/cifar10", downloads=900, labels=tuple("abcdefghij")),
            dataset_record(
                "uoft-cs/cifar100",
                downloads=800,
                labels=tuple(str(i) for i in range(100)),
                license="unknown",
                num_examples=60000,
            ),
            dataset_record(
                "ylecun/mnist",
                downloads=950,
                labels=tuple("0123456789"),
                pretty_name="MNIST 100%_digits",
            ),
            dataset_record("org/gated", status="skipped", skip_reason="gated", labels=()),
        ],
        crawled_at=T0,
    )


def test_search_filters_ranks_and_paginates(session: Session) -> None:
    _seed_search(session)
    page = repo.search_datasets(session)
    assert page.total == 3
    assert [d.id for d in page.items] == ["ylecun/mnist", "uoft-cs/cifar10", "uoft-cs/cifar100"]

    assert [d.id for d in repo.search_datasets(session, q="CIFAR").items] == [
        "uoft-cs/cifar10",
        "uoft-cs/cifar100",
    ]
    assert repo.search_datasets(session, q="100%_").total == 1  # wildcards are literal
    assert repo.search_datasets(session, q="%").total == 1  # only the name holding a "%"
    assert repo.search_datasets(session, q="c_far").total == 0
    assert [d.id for d in repo.search_datasets(session, min_classes=11).items] == [
        "uoft-cs/cifar100"
    ]
    assert repo.search_datasets(session, max_classes=10).total == 2
    assert repo.search_datasets(session, min_examples=1000).total == 1
    assert repo.search_datasets(session, license="mit").total == 2

    second = repo.search_datasets(session, limit=2, offset=2)
    assert second.total == 3 and [d.id for d in second.items] == ["uoft-cs/cifar100"]
    assert repo.search_datasets(session, status=None).total == 4
    with pytest.raises(ValueError, match="limit"):
        repo.search_datasets(session, limit=0)


def test_counts_licenses_and_label_sets(session: Session) -> None:
    _seed_search(session)
    counts = repo.count_datasets(session)
    assert (counts.ok, counts.skipped, counts.failed, counts.total) == (3, {"gated": 1}, 0, 4)
    assert repo.list_licenses(session) == [("mit", 2), ("unknown", 1)]
    sets = repo.get_label_sets(session)
    assert [s.dataset_id for s in sets] == ["uoft-cs/cifar10", "uoft-cs/cifar100", "ylecun/mnist"]
    assert sets[2].labels == tuple("0123456789")
    assert sets[2].labels_hash == repo.labels_hash(tuple("0123456789"))
    only = repo.get_label_sets(session, dataset_ids=["ylecun/mnist", "org/gated", "nope"])
    assert [s.dataset_id for s in only] == ["ylecun/mnist"]


def test_get_dataset_summaries(session: Session) -> None:
    _seed_search(session)
    found = repo.get_dataset_summaries(session, dataset_ids=["ylecun/mnist", "org/gated", "x/y"])
    assert set(found) == {"ylecun/mnist", "org/gated"}
    assert found["org/gated"].skip_reason == "gated" and found["ylecun/mnist"].num_labels == 10


def test_get_dataset_bounds_labels(session: Session) -> None:
    _seed_search(session)
    detail = repo.get_dataset(session, dataset_id="uoft-cs/cifar100", max_labels=5)
    assert detail is not None
    assert detail.labels == ("0", "1", "2", "3", "4")
    assert detail.num_labels == 100 and detail.labels_truncated
    assert repo.get_dataset(session, dataset_id="nope/nope") is None


def test_representations_round_trip(session: Session) -> None:
    _seed_search(session)
    vec = np.arange(4, dtype=np.float32)
    repo.save_representations(
        session,
        kind="label-text",
        model_version="m1",
        items=[
            repo.RepresentationIn("ylecun/mnist", "h1", vec),
            repo.RepresentationIn("uoft-cs/cifar10", "h2", vec + 1),
        ],
    )
    states = repo.get_representation_states(session, kind="label-text")
    assert states["ylecun/mnist"] == repo.RepresentationState("ylecun/mnist", "m1", "h1")
    matrix = repo.load_representations(session, kind="label-text")
    assert matrix.dataset_ids == ["uoft-cs/cifar10", "ylecun/mnist"]
    np.testing.assert_array_equal(matrix.vectors, np.stack([vec + 1, vec]))
    assert repo.load_representations(session, kind="clip").vectors.shape == (0, 0)
    with pytest.raises(ValueError, match="finite"):
        repo.save_representations(
            session,
            kind="label-text",
            model_version="m1",
            items=[repo.RepresentationIn("ylecun/mnist", "h", np.array([np.nan], np.float32))],
        )


def test_transfer_scores_validate_and_upsert(session: Session) -> None:
    _seed_search(session)
    result = repo.import_transfer(
        session,
        scores=[("ylecun/mnist", "uoft-cs/cifar10", 0.2), ("ylecun/mnist", "uoft-cs/cifar10", 0.3)],
        imported_at=T0,
    )
    assert result.scores == 1  # the later duplicate wins
    repo.import_transfer(session, scores=[("uoft-cs/cifar10", "ylecun/mnist", 0.0)], imported_at=T0)
    scores = repo.get_transfer_scores(session, dataset_id="ylecun/mnist")
    assert [(s.source_id, s.target_id, s.score) for s in scores] == [
        ("uoft-cs/cifar10", "ylecun/mnist", 0.0),
        ("ylecun/mnist", "uoft-cs/cifar10", 0.3),
    ]
    # docs/transfer.md: a score is a number >= 0; a bad one writes nothing of its batch.
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite and >= 0"):
            repo.import_transfer(
                session,
                scores=[("ylecun/mnist", "uoft-cs/cifar10", 0.9), ("a/b", "ylecun/mnist", bad)],
                imported_at=T0,
            )
    assert repo.count_transfer_scores(session) == 2
    assert repo.get_dataset(session, dataset_id="a/b") is None


def test_crawler_contract_accepts_positional_arguments(session: Session) -> None:
    # The crawl job codes against these exact signatures.
    repo.save_crawl_batch(session, [dataset_record("a/x")], crawled_at=T0)
    assert repo.get_dataset_shas(session, ["a/x"]) == {"a/x": "a" * 40}
    repo.update_popularity(session, {"a/x": (3, 4)}, crawled_at=T1)
    detail = repo.get_dataset(session, dataset_id="a/x")
    assert detail is not None and (detail.summary.downloads, detail.summary.likes) == (3, 4)


def test_dataset_documents_describe_every_id_asked_in_its_own_words(session: Session) -> None:
    long_card = "Handwritten digits. " * 100
    repo.save_crawl_batch(
        session,
        records=[
            dataset_record("a/mnist", pretty_name="MNIST", description=long_card),
            dataset_record("b/plain", pretty_name=None, description=None),
        ],
        crawled_at=T0,
    )
    documents = repo.get_dataset_documents(session, dataset_ids=["b/plain", "a/mnist", "no/such"])
    assert list(documents) == ["b/plain", "a/mnist", "no/such"]  # the order asked
    assert documents["a/mnist"].startswith("MNIST. Handwritten digits.")
    assert len(documents["a/mnist"]) < len(long_card)  # the card's opening only
    assert documents["b/plain"] == "b/plain." and documents["no/such"] == "no/such."
