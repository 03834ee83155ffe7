"""What both train jobs share: the progress counter and the dispatch of `run_train`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.config import Settings
from backend.db.engine import SessionFactory
from backend.errors import TrainFailed
from backend.jobs import train
from backend.jobs.train import TrainRequest, TrainSummary, run_train
from backend.jobs.train.common import MapOutcome, TrainCallbacks, TrainReporter, _duration
from backend.representations.base import Representer
from backend.representations.label_text import LabelTextEmbedder
from tests.atlas_fixtures import settings_for

Call = tuple[int, int | None, str | None]


def _reporter(calls: list[Call], **shape: int) -> TrainReporter:
    return TrainReporter(lambda *a: calls.append(a), **shape)


def test_the_counter_runs_through_representations_then_each_maps_budget() -> None:
    calls: list[Call] = []
    reporter = _reporter(calls, maps=2, fits_per_map=2, epochs=10)
    reporter.represent(0, 5)
    reporter.represent(5, 5)
    reporter.step("targets")
    for label, stop in (("2-D map", 4), ("3-D map", 10)):
        reporter.start_map()
        first = reporter.fit(label)
        for epoch in range(1, stop + 1):  # the first map stops early at epoch 4
            first(epoch, 10, 0.5)
        refit = reporter.fit(label)
        for epoch in range(1, 4):
            refit(epoch, 3, 0.25)
        reporter.finish_fits()
        reporter.step(f"{label}: saving")
        reporter.ranking(label)(7, 7)
    done = [c[0] for c in calls]
    assert done == sorted(done), calls  # never goes back
    assert {c[1] for c in calls} == {5 + 2 * 2 * 10}  # one total for the whole run
    # Every epoch but a fit's last says how long the fit has left at most.
    fits = [c[2] for c in calls if c[2] and ": epoch " in c[2]]
    assert all(("left" in m) != m.split(",")[0].endswith(("10/10", "3/3")) for m in fits)
    by_message = {(c[2] or "").split(", at most")[0]: c[0] for c in calls}
    assert by_message["targets"] == 5  # after the representations, not back at 0
    assert by_message["2-D map: epoch 4/10, loss 0.5"] == 5 + 4
    assert by_message["2-D map: epoch 3/3, loss 0.25"] == 5 + 10 + 3  # the refit's slot
    assert by_message["2-D map: ranking related datasets 7/7"] == 5 + 20  # the map's end
    assert by_message["3-D map: epoch 1/10, loss 0.5"] == 5 + 20 + 1
    assert calls[-1] == (45, 45, "3-D map: ranking related datasets 7/7")


def test_a_single_fit_keeps_to_its_maps_budget() -> None:
    calls: list[Call] = []
    reporter = _reporter(calls, maps=1, fits_per_map=2, epochs=5)
    reporter.start_map()
    report = reporter.fit("2-D transfer map")
    report(5, 5, 1.0)
    reporter.finish_fits()  # no refit: the second slot is skipped
    reporter.step("2-D transfer map: saving")
    assert [c[0] for c in calls] == [5, 10] and calls[-1][1] == 10


def test_the_budget_follows_the_sized_fit_until_a_map_starts() -> None:
    calls: list[Call] = []
    reporter = _reporter(calls, maps=2, fits_per_map=2, epochs=1350)
    reporter.represent(3, 3)
    assert calls[-1][1] == 3 + 2 * 2 * 1350
    reporter.resize(400)  # a sampled fit: its step budget, not the epochs asked for
    reporter.step("targets")
    assert calls[-1] == (3, 3 + 2 * 2 * 400, "targets")
    reporter.start_map()
    reporter.fit("2-D map")(400, 400, 0.1)
    assert calls[-1][:2] == (3 + 400, 3 + 1600)
    with pytest.raises(RuntimeError, match="fixed once a map has started"):
        reporter.resize(10)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        _reporter(calls, maps=1, fits_per_map=1, epochs=5).resize(0)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0.4, "0 s"), (59.4, "59 s"), (200, "3 min 20 s"), (3900, "1 h 05 min")],
)
def test_time_left_is_said_in_units_a_person_reads(seconds: float, said: str) -> None:
    assert _duration(seconds) == said


def test_no_progress_callback_is_fine() -> None:
    reporter = TrainReporter(None, maps=1, fits_per_map=1, epochs=1)
    reporter.represent(1, 1)
    reporter.start_map()
    reporter.fit("2-D map")(1, 1, 0.0)
    reporter.ranking("2-D map")(1, 1)


class _Recorder:
    """A trainer that records what `run_train` hands it."""

    def __init__(self, outcomes: list[MapOutcome]) -> None:
        self.outcomes = outcomes
        self.seen: dict[str, Any] = {}

    def __call__(
        self,
        settings: Settings,
        request: TrainRequest,
        sessions: SessionFactory,
        callbacks: TrainCallbacks,
        *,
        representer: Representer | None,
        embedder: LabelTextEmbedder | None,
    ) -> TrainSummary:
        self.seen = {
            "sessions": sessions,
            "callbacks": callbacks,
            "representer": representer,
            "embedder": embedder,
        }
        return TrainSummary(request.relation, request.representation, 2, 1, self.outcomes)


@pytest.mark.parametrize("relation", ["containment", "transfer"])
def test_run_train_hands_every_callback_to_each_relation(
    relation: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder([MapOutcome(dim=2, map_id=7, status="published")])
    monkeypatch.setitem(train.TRAINERS, relation, recorder)
    settings = settings_for(tmp_path / "atlas.db", tmp_path / "data")
    sessions: Any = object()
    representer: Any = object()
    embedder: Any = object()

    def progress(done: int, total: int | None, message: str | None) -> None: ...
    def on_ready(map_id: int) -> None: ...
    def on_published(map_id: int) -> None: ...

    summary = run_train(
        settings,
        TrainRequest(relation=relation),
        sessions=sessions,
        progress=progress,
        representer=representer,
        embedder=embedder,
        on_ready=on_ready,
        on_published=on_published,
    )
    assert [m.map_id for m in summary.maps] == [7]
    assert recorder.seen == {
        "sessions": sessions,
        "callbacks": TrainCallbacks(progress, on_ready, on_published),
        "representer": representer,
        "embedder": embedder,
    }


def test_failed_maps_raise_after_the_others_are_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = [
        MapOutcome(dim=2, map_id=7, status="published"),
        MapOutcome(dim=3, map_id=8, status="failed", error="TrainingError: loss became nan"),
    ]
    monkeypatch.setitem(train.TRAINERS, "containment", _Recorder(outcomes))
    settings = settings_for(tmp_path / "atlas.db", tmp_path / "data")
    with pytest.raises(TrainFailed, match="3-D map 8 failed: TrainingError: loss became nan"):
        run_train(settings, TrainRequest(dims=(2, 3)), sessions=object())  # type: ignore[arg-type]
