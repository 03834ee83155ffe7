"""Runs every model on every case of every setting, on the same splits, and aggregates ρ."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.hierarchy.runner import ModelSpec
from benchmarks.pool import run_fits
from benchmarks.transfer.data import TransferData
from benchmarks.transfer.features import with_identity
from benchmarks.transfer.protocol import SETTINGS, make_split, rho


@dataclass
class Row:
    """Per-case ρ of one model in one setting."""

    spec: ModelSpec
    setting: str
    rho: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The row in the benchmark's JSON schema (std is the sample std over cases)."""
        values = np.asarray(self.rho)
        std = float(values.std(ddof=1)) if values.size > 1 else 0.0
        row: dict[str, Any] = {"model": self.spec.model}
        if self.spec.dim is not None:
            row |= {"dim": self.spec.dim, "loss": self.spec.loss}
        return row | {
            "setting": self.setting,
            "rho_mean": float(values.mean()),
            "rho_std": std,
            "rho_cases": [round(float(v), 4) for v in values],
        }


@dataclass(frozen=True)
class BenchmarkResult:
    """Everything the CLI prints and writes."""

    rows: list[Row]
    data: str
    tasks: int
    pairs: int
    features: str
    cases: int
    seconds: float
    device: str

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": "transfer",
            "data": self.data,
            "tasks": self.tasks,
            "pairs": self.pairs,
            "features": self.features,
            "cases": self.cases,
            "metric": "spearman rho, predicted score vs tanh(50·a), per-target normalized",
            "rows": [row.to_json() for row in self.rows],
            "seconds": round(self.seconds, 2),
            "device": self.device,
        }


@dataclass(frozen=True)
class _Context:
    """What every fit needs; sent once to each worker process."""

    data: TransferData
    text: np.ndarray
    feature_set: str
    specs: tuple[ModelSpec, ...]
    seed: int


def _pairs(data: TransferData, index: np.ndarray) -> np.ndarray:
    # Box orientation of `models.transfer`: row (source, target) is fitted by P(s ⊆ t).
    return np.stack([data.source[index], data.target[index]], axis=1)


def fit_and_score(ctx: _Context, setting: str, case: int, k: int) -> float:
    """Test ρ of model `k` on case `case` of `setting` (the split is recomputed from the
    seed: cheap, deterministic, identical in every process)."""
    d = ctx.data
    split = make_split(setting, d.source, d.target, d.size, ctx.seed, case)
    x = with_identity(ctx.text, ctx.feature_set, split.held_out)
    model = ctx.specs[k].make(ctx.seed * 1000 + case * 31 + k)
    model.fit(
        x, _pairs(d, split.train), d.y[split.train], val=(_pairs(d, split.val), d.y[split.val])
    )
    test = _pairs(d, split.test)
    return rho(d.y[split.test], model.score(x, test[:, 0], test[:, 1]))


def run_benchmark(
    data: TransferData,
    text: np.ndarray,
    specs: Sequence[ModelSpec],
    *,
    cases: int,
    seed: int,
    device: str,
    feature_set: str = "text+id",
    settings: Sequence[str] = SETTINGS,
    jobs: int = 1,
    on_fit: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Fits and evaluates every spec on `cases` random splits of each setting.

    Args:
        data: the measured transfers.
        text: `(N, E)` text embeddings of the tasks (identity is added per split).
        specs: the models to compare; each gets the same splits and targets.
        cases: random cases per setting.
        seed: base seed; case k of a setting always gets the same split for a given seed.
        device: the device name to report.
        feature_set: `text+id`, `text` or `id` (see `benchmarks.transfer.features`).
        settings: which protocol settings to run.
        jobs: worker processes (1: run in this process). Results do not depend on it.
        on_fit: called with a short description after each fit (progress reporting).

    Raises:
        ValueError: if `text` does not have one row per task, `cases < 1` or `jobs < 1`.
    """
    if text.shape[0] != data.size:
        raise ValueError(f"text has {text.shape[0]} rows for {data.size} tasks")
    if cases < 1 or jobs < 1:
        raise ValueError(f"cases and jobs must be >= 1, got {cases} and {jobs}")
    start = time.perf_counter()
    ctx = _Context(data=data, text=text, feature_set=feature_set, specs=tuple(specs), seed=seed)
    work = [(s, c, k) for s in settings for c in range(cases) for k in range(len(specs))]
    scores: dict[tuple[str, int, int], float] = {}
    for (setting, case, k), value in run_fits(fit_and_score, ctx, work, jobs):
        scores[(setting, case, k)] = value
        if on_fit is not None:
            on_fit(f"{setting} case {case + 1}/{cases}: {specs[k].label} ρ {value:.3f}")
    rows = [
        Row(spec, setting, [scores[(setting, c, k)] for c in range(cases)])
        for setting in settings
        for k, spec in enumerate(specs)
    ]
    return BenchmarkResult(
        rows=rows,
        data=data.name,
        tasks=data.size,
        pairs=len(data),
        features=feature_set,
        cases=cases,
        seconds=time.perf_counter() - start,
        device=device,
    )
