"""Importing transfer scores into a real database: new tasks, all-or-nothing, replacement."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from backend.db import repository as repo
from backend.transfer.csv_input import TransferInputError
from backend.transfer.importer import import_transfer_csv
from tests.factories import T0, dataset_record

SCORES = """source,target,score
rgb2depth,rgb2sfnorm,0.012
rgb2sfnorm,rgb2depth,0.009
org/pets,rgb2depth,0.001
"""
DESCRIPTIONS = """id,description,name
rgb2depth,z-buffer depth,Z-Depth
rgb2sfnorm,surface normals,Normals
org/pets,must not overwrite a Hub dataset,Pets
unused_task,never named by a score,
"""


def _state(session: Session) -> tuple[list[tuple[str, str, float]], list[str]]:
    scores = [(s.source_id, s.target_id, s.score) for s in repo.get_transfer_scores(session)]
    page = repo.search_datasets(session, status=None, limit=100)
    return scores, [d.id for d in page.items]


def test_import_creates_unknown_tasks_and_keeps_hub_datasets(session: Session) -> None:
    repo.save_crawl_batch(session, [dataset_record("org/pets")], crawled_at=T0)
    report = import_transfer_csv(session, SCORES, DESCRIPTIONS)
    assert report.rows == 3 and report.total_scores == 3
    assert report.created == ("rgb2depth", "rgb2sfnorm")
    assert report.unused_descriptions == ("unused_task",)
    depth = repo.get_dataset(session, dataset_id="rgb2depth", max_labels=10)
    assert depth is not None
    assert depth.summary.source == "import" and depth.summary.status == "ok"
    assert (depth.summary.pretty_name, depth.description) == ("Z-Depth", "z-buffer depth")
    assert depth.num_labels == 0
    pets = repo.get_dataset(session, dataset_id="org/pets", max_labels=10)
    assert pets is not None and pets.summary.source == "hub" and pets.description is None
    assert pets.labels == ("cat", "dog", "bird")
    texts = {t.id: t for t in repo.get_dataset_texts(session, dataset_ids=["rgb2sfnorm", "x"])}
    assert set(texts) == {"rgb2sfnorm"} and texts["rgb2sfnorm"].description == "surface normals"
    summary = repo.get_transfer_summary(session)
    assert (summary.scores, summary.tasks) == (3, 3) and summary.imported_at is not None


def test_a_bad_line_imports_nothing(session: Session) -> None:
    import_transfer_csv(session, SCORES)
    before = _state(session)
    bad = "source,target,score\nnew_a,new_b,0.5\nrgb2depth,rgb2sfnorm,0.9\nnew_c,new_c,1\n"
    with pytest.raises(TransferInputError) as info:
        import_transfer_csv(session, bad)
    assert [e.line for e in info.value.errors] == [4]
    assert _state(session) == before  # no new task, no changed score
    with pytest.raises(TransferInputError, match=r"descriptions\.csv: 1 error"):
        import_transfer_csv(session, bad.replace("new_c,new_c", "new_c,new_d"), "id,desc\n")
    assert _state(session) == before


def test_reimport_replaces_pairs_and_updates_imported_descriptions(session: Session) -> None:
    import_transfer_csv(session, SCORES)
    report = import_transfer_csv(
        session,
        "source,target,score\nrgb2depth,rgb2sfnorm,0.5\nrgb2depth,edge2d,0.2\n",
        "id,description\nrgb2depth,depth from one image\n",
    )
    assert report.created == ("edge2d",) and report.described == ("rgb2depth",)
    assert report.total_scores == 4
    scores = {(s.source_id, s.target_id): s.score for s in repo.get_transfer_scores(session)}
    assert scores[("rgb2depth", "rgb2sfnorm")] == 0.5
    assert scores[("rgb2sfnorm", "rgb2depth")] == 0.009  # untouched
    depth = repo.get_dataset(session, dataset_id="rgb2depth", max_labels=0)
    assert depth is not None and depth.description == "depth from one image"


def test_replace_all_starts_the_matrix_over(session: Session) -> None:
    import_transfer_csv(session, SCORES)
    report = import_transfer_csv(session, "source,target,score\na,b,1\n", replace_all=True)
    assert report.replaced_all and report.total_scores == 1
    assert [(s.source_id, s.target_id) for s in repo.get_transfer_scores(session)] == [("a", "b")]


def test_the_repository_refuses_what_the_parser_would(session: Session) -> None:
    with pytest.raises(ValueError, match="two datasets"):
        repo.import_transfer(session, scores=[("a", "a", 1.0)], imported_at=T0)
    with pytest.raises(ValueError, match=">= 0"):
        repo.import_transfer(session, scores=[("a", "b", -1.0)], imported_at=T0)
    assert repo.count_transfer_scores(session) == 0
    assert repo.search_datasets(session, status=None).total == 0
