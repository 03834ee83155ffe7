"""The shared vocabulary (`backend.vocab`) and the places that must list all of it."""

from __future__ import annotations

from typing import get_args

from backend import records, schemas
from backend.cli.train import RelationOption
from backend.db import repository
from backend.db.tables import ACTIVE_JOB_STATUSES
from backend.jobs.train import TRAINERS
from backend.vocab import (
    DEFAULT_DIRECTION,
    DIRECTIONS,
    RELATION_DIRECTIONS,
    RELATIONS,
    DatasetStatus,
    JobStatus,
    MapStatus,
)


def test_each_direction_belongs_to_exactly_one_relation() -> None:
    assert set(RELATION_DIRECTIONS) == set(RELATIONS)
    listed = [d for directions in RELATION_DIRECTIONS.values() for d in directions]
    assert sorted(listed) == sorted(DIRECTIONS)


def test_each_default_direction_is_one_of_its_relation() -> None:
    assert set(DEFAULT_DIRECTION) == set(RELATIONS)
    for relation, direction in DEFAULT_DIRECTION.items():
        assert direction in RELATION_DIRECTIONS[relation]


def test_every_relation_can_be_trained_from_the_cli_and_the_job() -> None:
    # Typer needs an Enum for its choices, so the CLI lists the relations again.
    assert {o.value for o in RelationOption} == set(RELATIONS)
    assert set(TRAINERS) == set(RELATIONS)


def test_the_api_reports_the_dataset_statuses_the_crawler_records() -> None:
    summary = schemas.DatasetSummary.model_fields["status"].annotation
    assert get_args(summary) == get_args(DatasetStatus)
    assert records.DatasetRecord(id="a/b").status in get_args(DatasetStatus)


def test_map_and_job_statuses_are_defined_once() -> None:
    # The REST schemas and the repository's records re-export vocab's aliases rather than
    # spelling the statuses again, so the API can never report a status the database lacks.
    assert schemas.MapStatus is MapStatus and repository.MapStatus is MapStatus
    assert schemas.JobStatus is JobStatus and repository.JobStatus is JobStatus
    assert set(ACTIVE_JOB_STATUSES) <= set(get_args(JobStatus))
