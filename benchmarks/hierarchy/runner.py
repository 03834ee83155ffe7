"""Runs every model on every case of every setting, on the same splits, and aggregates F1."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.protocol import SETTINGS, Split, evaluate, make_split
from models.baselines import PairBaseline

ScorerFactory = Callable[[int], PairBaseline]
"""Builds a fresh, unfitted model from a seed."""


@dataclass(frozen=True)
class ModelSpec:
    """One row family of the table: a model (and for Task2Box its loss and dimension)."""

    model: str
    make: ScorerFactory
    loss: str | None = None
    dim: int | None = None

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


def _fit_and_score(
    spec: ModelSpec,
    seed: int,
    x: np.ndarray,
    split: Split,
    y: np.ndarray,
    truth: tuple[np.ndarray, np.ndarray],
) -> tuple[float, float]:
    train_y = y[split.train[:, 0], split.train[:, 1]]
    val_y = y[split.val[:, 0], split.val[:, 1]]
    model = spec.make(seed).fit(x, split.train, train_y, val=(split.val, val_y))
    score = evaluate(lambda i, j: model.score(x, i, j), split, *truth)
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
        on_fit: called with a short description after each fit (progress reporting).

    Raises:
        ValueError: if `x` does not have one row per node or `cases < 1`.
    """
    if x.shape[0] != h.size:
        raise ValueError(f"x has {x.shape[0]} rows for {h.size} nodes")
    if cases < 1:
        raise ValueError(f"cases must be >= 1, got {cases}")
    start = time.perf_counter()
    y = h.targets()
    truth = (h.contained(), h.direct())
    childless = h.childless()
    rows = {(s.label, setting): Row(s, setting) for setting in settings for s in specs}
    for setting in settings:
        for case in range(cases):
            split = make_split(setting, h.size, childless, seed, case)
            for k, spec in enumerate(specs):
                f1, f1_edge = _fit_and_score(spec, seed * 1000 + case * 31 + k, x, split, y, truth)
                row = rows[(spec.label, setting)]
                row.f1.append(f1)
                row.f1_edge.append(f1_edge)
                if on_fit is not None:
                    on_fit(f"{setting} case {case + 1}/{cases}: {spec.label} F1 {f1:.3f}")
    return BenchmarkResult(
        rows=list(rows.values()),
        nodes=h.size,
        edges=len(h.edges),
        seconds=time.perf_counter() - start,
        device=device,
    )
