"""The models of one benchmark run: Task2Box at each dimension and loss, and every baseline.

Training budgets live here, in one place. `quick` shrinks them so that the whole protocol runs
in a test; the full budgets are the ones reported in `benchmarks/RESULTS.md`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

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


@dataclass(frozen=True)
class Task2BoxFactory:
    """Builds Task2Box with a given seed (a module-level class, so it pickles to workers)."""

    config: TrainConfig

    def __call__(self, seed: int) -> PairBaseline:
        return Task2BoxScorer(replace(self.config, seed=seed))


@dataclass(frozen=True)
class BaselineFactory:
    """Builds one baseline by name with a given seed."""

    name: str
    epochs: int
    device: str

    def __call__(self, seed: int) -> PairBaseline:
        if self.name == "mlp":
            return PairClassifier((128, 32), epochs=self.epochs, seed=seed, device=self.device)
        if self.name == "linear":
            return PairClassifier((), epochs=self.epochs, seed=seed, device=self.device)
        if self.name == "kl":
            return GaussianKL()
        if self.name == "asym-cosine":
            return AsymmetricCosine()
        if self.name == "random":
            return RandomScores(seed)
        raise ValueError(f"unknown baseline {self.name!r}; expected one of {BASELINES}")


def model_specs(
    dims: Sequence[int], *, quick: bool, device: str, losses: Sequence[str] = LOSSES
) -> list[ModelSpec]:
    """Task2Box for every (dim, loss), then every baseline.

    Raises:
        ValueError: on a dimension below 1 or an unknown loss.
    """
    budget = QUICK if quick else FULL
    specs = [
        ModelSpec(
            "task2box",
            Task2BoxFactory(task2box_config(dim, loss, budget.task2box_epochs, device)),
            loss=loss,
            dim=dim,
        )
        for dim in dims
        for loss in losses
    ]
    return specs + [
        ModelSpec(name, BaselineFactory(name, budget.classifier_epochs, device))
        for name in BASELINES
    ]
