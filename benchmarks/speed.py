"""Trainer speed against N: full-batch vs sampled epochs, a 10k fit, placement latency.

Everything runs on a synthetic random hierarchy (`benchmarks.synthetic`) with realistic
768-d `[mean; variance]` features. Timings are wall-clock on whatever else the machine is
doing: report the machine, and rerun on a quiet one before quoting numbers.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from benchmarks.synthetic import random_hierarchy
from models.device import select_device
from models.metrics import best_f1
from models.train import TrainConfig, fit

DEFAULT_SIZES = (100, 300, 1_000, 2_000, 3_000, 10_000, 30_000, 100_000)
# Full batch is all N·(N-1) ordered pairs: past this N one epoch is tens of millions of pairs
# (about 4 million pairs at 2,000 datasets, which still fits one step on a CPU).
DEFAULT_FULL_BATCH_MAX_N = 2_000


# Epochs of the preset's complete fit (`task2box bench speed --fit-epochs`).
LARGE_N_EPOCHS = 40


def large_n_config(*, dim: int, device: str, epochs: int = LARGE_N_EPOCHS) -> TrainConfig:
    """The trainer preset for maps of thousands of datasets, which the benchmark times.

    On CPU an optimizer step costs about one trunk forward and backward pass over every
    training box (a 120k-pair batch touches nearly all 10k nodes), so the preset is chosen
    for fit per step:

    - a (128, 64) trunk on the top 128 principal directions: ~25k multiply-adds per box and
      pass, 1/40 of the paper's (1024, 256, 128) on all 768 features and 1/2.7 of (256, 128);
    - batches of 120k pairs (3 steps an epoch at 10k boxes) for 40 epochs, rather than one
      step of every pair for 100 epochs;
    - 2 random + 2 hard negatives per positive instead of 4 + 2.

    On a synthetic 10k-box hierarchy (1 thread, shared machine) that fits better in less
    than half the CPU time: training-pair F1 0.858 in 16 s CPU vs 0.839 in 44 s for the
    previous (256, 128), 100 x 1-step preset.
    """
    return TrainConfig(
        dim=dim,
        device=device,
        epochs=epochs,
        lr=1e-2,
        hidden=(128, 64),
        feature_rank=128,
        batch_pairs=120_000,
        negatives_per_positive=2,
    )


@dataclass(frozen=True)
class EpochRow:
    """Median epoch time of one training mode at one N."""

    n: int
    mode: str  # "full" | "sampled"
    pairs_per_epoch: int
    steps_per_epoch: int
    epoch_s: float
    peak_mb: float | None


@dataclass(frozen=True)
class FitResult:
    """A complete sampled fit of a synthetic hierarchy."""

    n: int
    dim: int
    epochs: int
    seconds: float
    cpu_seconds: float
    train_f1: float


@dataclass
class SpeedReport:
    """Everything `task2box bench speed` prints and writes."""

    device: str
    threads: int
    trainer: dict[str, Any]
    epochs: list[EpochRow] = field(default_factory=list)
    fit: FitResult | None = None
    place_ms_median: float | None = None
    place_ms_p95: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": "speed",
            "device": self.device,
            "threads": self.threads,
            "trainer": self.trainer,
            "epochs": [asdict(r) for r in self.epochs],
            "fit": asdict(self.fit) if self.fit is not None else None,
            "place_ms_median": self.place_ms_median,
            "place_ms_p95": self.place_ms_p95,
        }


def _peak_mb(device: torch.device) -> float | None:
    # Exact and free on CUDA; CPU allocations are not tracked by torch, so report nothing.
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return None


def time_epochs(n: int, mode: str, *, config: TrainConfig, epochs: int, seed: int = 0) -> EpochRow:
    """Median seconds per epoch of training `n` synthetic boxes in `mode`.

    Args:
        n: number of boxes.
        mode: "full" (every ordered pair each epoch) or "sampled".
        config: base training config (epochs, batch mode and validation are overridden).
        epochs: timed epochs (after one warm-up epoch).
        seed: synthetic hierarchy seed.
    """
    h = random_hierarchy(n, seed=seed)
    device = select_device(config.device)
    full_max = n * n if mode == "full" else 0
    run = TrainConfig(**{**asdict(config), "epochs": epochs + 1, "full_batch_max_pairs": full_max})
    stamps: list[float] = []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def tick(_epoch: int, _total: int, _loss: float) -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        stamps.append(time.perf_counter())

    model = fit(h.x, h.positives(), run, progress=tick)
    per_epoch = np.diff(np.asarray(stamps))  # drops the warm-up epoch
    pairs = int(model.history[-1]["pairs"] or 0)
    return EpochRow(
        n=n,
        mode=mode,
        pairs_per_epoch=pairs,
        # Sampled epochs are split into `batch_pairs` batches, one optimizer step each.
        steps_per_epoch=1 if mode == "full" else max(1, -(-pairs // run.batch_pairs)),
        epoch_s=float(np.median(per_epoch)),
        peak_mb=_peak_mb(device),
    )


def time_fit(n: int, *, config: TrainConfig, seed: int = 0) -> tuple[FitResult, Any]:
    """Fit `n` synthetic boxes with the sampled trainer; returns the result and the model.

    `train_f1` is the best-threshold F1 of `P(child ⊆ ancestor)` over the ancestor pairs
    against an equal number of random non-ancestor pairs: how well the boxes fit.
    """
    h = random_hierarchy(n, seed=seed)
    run = TrainConfig(**{**asdict(config), "full_batch_max_pairs": 0})
    start, cpu_start = time.perf_counter(), time.process_time()
    model = fit(h.x, h.positives(), run)
    seconds = time.perf_counter() - start
    # CPU time of this process (all its threads): on a shared machine it says what the fit
    # costs where wall clock only says how busy the neighbours were.
    cpu_seconds = time.process_time() - cpu_start
    rng = np.random.default_rng(seed + 1)
    k = h.child.size
    ri, rj = rng.integers(0, n, size=k), rng.integers(0, n, size=k)
    known = set(zip(h.child.tolist(), h.ancestor.tolist(), strict=True))
    neg = np.array([a != b and (a, b) not in known for a, b in zip(ri, rj, strict=True)])
    i = np.r_[h.child, ri[neg]]
    j = np.r_[h.ancestor, rj[neg]]
    y = np.r_[np.ones(k), np.zeros(int(neg.sum()))]
    f1 = best_f1(y, model.predict_pairs(h.x, i, j))
    result = FitResult(
        n=n,
        dim=run.dim,
        epochs=len(model.history),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        train_f1=f1,
    )
    return result, model


def time_placement(model: Any, in_dim: int, *, repeats: int = 200, seed: int = 0) -> list[float]:
    """Milliseconds of `model.boxes(x)` for one unseen feature row, `repeats` times."""
    x = np.random.default_rng(seed).normal(size=(1, in_dim)).astype(np.float32)
    model.boxes(x)  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.boxes(x)
        out.append((time.perf_counter() - start) * 1e3)
    return out


def run_speed_bench(
    *,
    sizes: Sequence[int],
    config: TrainConfig,
    epochs: int,
    full_batch_max_n: int,
    fit_n: int | None,
    fit_config: TrainConfig,
    place_repeats: int,
    on_row: Callable[[str], None] | None = None,
) -> SpeedReport:
    """Run the whole speed benchmark.

    Args:
        sizes: N values for the epoch-time table.
        config: training config for the epoch-time table.
        epochs: timed epochs per row.
        full_batch_max_n: largest N that is also timed full-batch.
        fit_n: N for the complete sampled fit (`None` skips it and placement).
        fit_config: training config of that fit (epochs included).
        place_repeats: single-row placements timed.
        on_row: called with a short line after each measurement (progress).
    """
    device = select_device(config.device)
    trainer = {
        "loss": config.loss,
        "dim": config.dim,
        "hidden": list(config.hidden),
        "feature_rank": config.feature_rank,
        "lr": config.lr,
        "negatives_per_positive": config.negatives_per_positive,
        "hard_negatives_per_positive": config.hard_negatives_per_positive,
        "batch_pairs": config.batch_pairs,
    }
    report = SpeedReport(device=str(device), threads=torch.get_num_threads(), trainer=trainer)
    for n in sizes:
        modes = ("full", "sampled") if n <= full_batch_max_n else ("sampled",)
        for mode in modes:
            row = time_epochs(n, mode, config=config, epochs=epochs)
            report.epochs.append(row)
            if on_row is not None:
                on_row(f"N={n} {mode}: {row.epoch_s * 1e3:.1f} ms/epoch")
    if fit_n is not None:
        result, model = time_fit(fit_n, config=fit_config)
        report.fit = result
        if on_row is not None:
            on_row(f"fit N={fit_n}: {result.seconds:.1f} s, F1 {result.train_f1:.3f}")
        ms = time_placement(model, model.net.config.in_dim, repeats=place_repeats)
        report.place_ms_median = statistics.median(ms)
        report.place_ms_p95 = float(np.percentile(ms, 95))
    return report
