"""Runs every model on every case of every setting, on the same splits, and aggregates F1."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.protocol import SETTINGS, evaluate, make_split
from benchmarks.pool import run_fits
from models.research.baselines import PairBaseline

ScorerFactory = Callable[[int], PairBaseline]
"""Builds a fresh, unfitted model from a seed. Must pickle (a module-level class) for `jobs > 1`."""


@dataclass(frozen=True)
class ModelSpec:
    """One row family of the table: a model (and for Task2Box its loss and dimension)."""

    model: str
    make: ScorerFactory
    loss: str | None = None
    dim: int | None = None
    slot: int | None = None
    """Seeds the model; `None`: its position in the run. A subset of a run (`--models`) keeps
    the full run's slots, so its rows reproduce the full run's."""

    @property
    def label(self) -> str:
        return self.model if self.dim is None else f"{self.model} {self.dim}D {self.loss}"


@dataclass
class Row:
    """Per-case scores of one model in one setting."""

    spec: ModelSpec
    setting: str
    f1: list[float] = field(default_factory=list)
    f1_edge: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The row in the benchmark's JSON schema (std is the sample std over cases)."""
        f1 = np.asarray(self.f1)
        std = float(f1.std(ddof=1)) if f1.size > 1 else 0.0
        if self.spec.dim is None:
            return {
                "model": self.spec.model,
                "setting": self.setting,
                "f1_mean": float(f1.mean()),
                "f1_std": std,
            }
        return {
            "model": self.spec.model,
            "loss": self.spec.loss,
            "dim": self.spec.dim,
            "setting": self.setting,
            "f1_mean": float(f1.mean()),
            "f1_std": std,
            "f1_edge_mean": float(np.mean(self.f1_edge)),
        }


@dataclass(frozen=True)
class BenchmarkResult:
    """Everything the CLI prints and writes."""

    rows: list[Row]
    nodes: int
    edges: int
    seconds: float
    device: str

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": "hierarchy",
            "nodes": self.nodes,
            "edges": self.edges,
            "rows": [row.to_json() for row in self.rows],
            "seconds": round(self.seconds, 2),
            "device": self.device,
        }


@dataclass(frozen=True)
class _Context:
    """What every fit needs; sent once to each worker process."""

    h: Hierarchy
    x: np.ndarray
    specs: tuple[ModelSpec, ...]
    seed: int


def _fit_one(ctx: _Context, setting: str, case: int, k: int) -> tuple[float, float]:
    # The split is recomputed from (seed, case): cheap, deterministic, and identical in every
    # process, so all models of a case see exactly the same pairs.
    split = make_split(setting, ctx.h.size, ctx.h.childless(), ctx.seed, case)
    y = ctx.h.targets()
    train_y = y[split.train[:, 0], split.train[:, 1]]
    val_y = y[split.val[:, 0], split.val[:, 1]]
    spec = ctx.specs[k]
    model = spec.make(ctx.seed * 1000 + case * 31 + (k if spec.slot is None else spec.slot))
    model.fit(ctx.x, split.train, train_y, val=(split.val, val_y))
    x = ctx.x
    score = evaluate(lambda i, j: model.score(x, i, j), split, ctx.h.contained(), ctx.h.direct())
    return score.f1, score.f1_edge


def run_benchmark(
    h: Hierarchy,
    x: np.ndarray,
    specs: Sequence[ModelSpec],
    *,
    cases: int,
    seed: int,
    device: str,
    settings: Sequence[str] = SETTINGS,
    jobs: int = 1,
    on_fit: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Fits and evaluates every spec on `cases` random splits of each setting.

    Args:
        h: the hierarchy (ground truth).
        x: `(N, D)` node features.
        specs: the models to compare; each gets the same splits and targets.
        cases: random cases per setting.
        seed: base seed; case k of a setting always gets the same split for a given seed.
        device: the device name to report.
        settings: which protocol settings to run.
        jobs: worker processes (1: run in this process). Results do not depend on it.
        on_fit: called with a short description after each fit (progress reporting).

    Raises:
        ValueError: if `x` does not have one row per node, `cases < 1` or `jobs < 1`.
    """
    if x.shape[0] != h.size:
        raise ValueError(f"x has {x.shape[0]} rows for {h.size} nodes")
    if cases < 1 or jobs < 1:
        raise ValueError(f"cases and jobs must be >= 1, got {cases} and {jobs}")
    start = time.perf_counter()
    ctx = _Context(h=h, x=x, specs=tuple(specs), seed=seed)
    work = [(s, c, k) for s in settings for c in range(cases) for k in range(len(specs))]
    scores: dict[tuple[str, int, int], tuple[float, float]] = {}
    for (setting, case, k), (f1, f1_edge) in run_fits(_fit_one, ctx, work, jobs):
        scores[(setting, case, k)] = (f1, f1_edge)
        if on_fit is not None:
            label = specs[k].label
            on_fit(f"{setting} case {case + 1}/{cases}: {label} F1 {f1:.3f}")
    rows = []
    for setting in settings:
        for k, spec in enumerate(specs):
            per_case = [scores[(setting, c, k)] for c in range(cases)]
            rows.append(Row(spec, setting, [a for a, _ in per_case], [b for _, b in per_case]))
    return BenchmarkResult(
        rows=rows,
        nodes=h.size,
        edges=len(h.edges),
        seconds=time.perf_counter() - start,
        device=device,
    )
