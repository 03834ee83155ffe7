"""How long the Hub job's estimate step takes: every ordered pair of N synthetic datasets.

Each dataset is `samples` feature vectors of `dim` dimensions (CLIP ViT-B/32's width by
default) in `classes` classes around random class means, so the probes have something to
fit. The timed call is `models.transferability.estimate_transfer`, all estimators, as the
job runs it, with its seconds per phase (probe fit, probe outputs, each estimator).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from models.device import select_device
from models.transferability import ESTIMATORS, Tasks, estimate_transfer


@dataclass(frozen=True)
class SpeedResult:
    device: str
    datasets: int
    samples: int
    dim: int
    classes: int
    pairs: int
    threads: int
    probe_fit_s: float
    estimate_s: float  # the whole call: probe fit and every pair
    phases_s: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def synthetic_tasks(
    datasets: int, samples: int, dim: int, classes: int, device: torch.device, seed: int = 0
) -> Tasks:
    """Unit-norm features (as CLIP's are) of `classes` noisy clusters per dataset."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    means = torch.randn(datasets, classes, dim, generator=gen)
    labels = torch.arange(samples).remainder(classes).expand(datasets, -1).contiguous()
    x = means.gather(1, labels[..., None].expand(-1, -1, dim))
    x = x + 2.0 * torch.randn(datasets, samples, dim, generator=gen)
    x = x / x.norm(dim=-1, keepdim=True)
    return Tasks(
        features=x.to(device),
        labels=labels.to(device),
        mask=torch.ones(datasets, samples, dtype=torch.bool, device=device),
        classes=torch.full((datasets,), classes, dtype=torch.int64, device=device),
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_speed(
    datasets: int = 1000,
    samples: int = 300,
    dim: int = 512,
    classes: int = 30,
    device: str = "auto",
) -> SpeedResult:
    """Times the estimate of every ordered pair, probe fit included, and each phase."""
    if min(datasets, samples, dim) < 1 or not 2 <= classes <= samples:
        raise ValueError(
            f"need datasets, samples, dim >= 1 and 2 <= classes <= samples, got "
            f"{datasets}, {samples}, {dim}, {classes}"
        )
    where = select_device(device)
    tasks = synthetic_tasks(datasets, samples, dim, classes, where)
    phases: dict[str, float] = {}
    _sync(where)
    start = time.perf_counter()
    scores = estimate_transfer(tasks, tasks, estimators=ESTIMATORS, seconds=phases)
    _sync(where)
    estimate_s = time.perf_counter() - start
    assert all(np.isfinite(m).all() for m in scores.values())
    return SpeedResult(
        device=str(where),
        datasets=datasets,
        samples=samples,
        dim=dim,
        classes=classes,
        pairs=datasets * datasets,
        threads=torch.get_num_threads(),
        probe_fit_s=phases["probe fit"],
        estimate_s=estimate_s,
        phases_s=phases,
    )
