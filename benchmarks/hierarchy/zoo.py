"""The models of one benchmark run: Task2Box at each dimension and loss, and every baseline.

Training budgets live here, in one place. `quick` shrinks them so that the whole protocol runs
in a test; the full budgets are the ones reported in `benchmarks/RESULTS.md`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.hierarchy.runner import ModelSpec
from benchmarks.hierarchy.task2box import Task2BoxScorer
from models.baselines import (
    AsymmetricCosine,
    GaussianKL,
    PairBaseline,
    PairClassifier,
    RandomScores,
)
from models.train import TrainConfig

LOSSES = ("ours", "paper")
BASELINES = ("mlp", "linear", "kl", "asym-cosine", "random")


@dataclass(frozen=True)
class Budget:
    """Epoch budgets: Task2Box and the pair classifiers."""

    task2box_epochs: int
    classifier_epochs: int


FULL = Budget(task2box_epochs=400, classifier_epochs=300)
QUICK = Budget(task2box_epochs=80, classifier_epochs=60)


def task2box_config(dim: int, loss: str, epochs: int, device: str) -> TrainConfig:
    """The trainer settings the benchmark uses (chosen on validation splits; see RESULTS.md)."""
    return TrainConfig(
        dim=dim,
        loss=loss,
        epochs=epochs,
        device=device,
        hidden=(256, 128),
        lr=3e-3,
        patience=None,
    )


def _task2box(config: TrainConfig) -> ModelSpec:
    template = Task2BoxScorer(config)

    def make(seed: int) -> PairBaseline:
        return template.with_seed(seed)

    return ModelSpec("task2box", make, loss=config.loss, dim=config.dim)


def _baseline(name: str, budget: Budget, device: str) -> ModelSpec:
    def make(seed: int) -> PairBaseline:
        if name == "mlp":
            return PairClassifier(
                (128, 32), epochs=budget.classifier_epochs, seed=seed, device=device
            )
        if name == "linear":
            return PairClassifier((), epochs=budget.classifier_epochs, seed=seed, device=device)
        if name == "kl":
            return GaussianKL()
        if name == "asym-cosine":
            return AsymmetricCosine()
        return RandomScores(seed)

    return ModelSpec(name, make)


def model_specs(
    dims: Sequence[int], *, quick: bool, device: str, losses: Sequence[str] = LOSSES
) -> list[ModelSpec]:
    """Task2Box for every (dim, loss), then every baseline.

    Raises:
        ValueError: on a dimension below 1 or an unknown loss.
    """
    budget = QUICK if quick else FULL
    specs = [
        _task2box(task2box_config(dim, loss, budget.task2box_epochs, device))
        for dim in dims
        for loss in losses
    ]
    return specs + [_baseline(name, budget, device) for name in BASELINES]
