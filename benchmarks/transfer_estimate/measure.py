"""Measured transfer: pre-train on the source, fine-tune on a few target images, against
the same network trained from scratch on them.

The network is a small MLP over the pixels (`pixels → 128 → 64 → classes`, ReLU): cheap
enough to train every ordered pair of tasks over several seeds on a laptop CPU, deep enough
that its hidden layers learn features a related task can reuse. Its last hidden layer is the
frozen backbone the estimators read, as in the LEEP paper, where the source network itself
provides them.

Many such networks train at once as one stack of weights (`Nets`): the members' losses are
summed, and Adam and its weight decay act elementwise, so each member follows exactly the
path it would alone. That turns a few thousand tiny fine-tunes into a few hundred batched
ones, which is what keeps the default run to minutes on a laptop CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

INPUT = 64  # scikit-learn's 8×8 digits; other image sets give their own width
HIDDEN = (128, 64)


@dataclass(frozen=True)
class TrainSettings:
    """Full-batch Adam; the fine-tunes and the scratch run share steps, rate and head, so a
    gain is the pre-training's alone.

    `body_lr_scale` multiplies the rate of a fine-tuned network's pre-trained layers (its new
    head trains at `lr`): the usual discriminative fine-tuning. At the full rate, gradients
    through a random head overwrite the pre-trained features within the first steps, so a
    source fine-tuned on its own task's new images barely beats scratch, and the measured
    gains vary more between seeds than between sources. The default was chosen by those two
    checks, the gain on a source's own task and the agreement of gains between seeds, and
    never by any estimator's correlation. The scratch network trains every layer at `lr`:
    it has no features to keep.
    """

    source_steps: int = 300
    target_steps: int = 100
    lr: float = 3e-3
    weight_decay: float = 1e-4
    body_lr_scale: float = 0.1

    def __post_init__(self) -> None:
        if self.source_steps < 1 or self.target_steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.source_steps} and {self.target_steps}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 < self.body_lr_scale <= 1:
            raise ValueError(f"body_lr_scale must be in (0, 1], got {self.body_lr_scale}")


@dataclass
class Nets:
    """`B` MLPs as stacked weights: `body` = two `(B, in, out)` layers, `head` the last one.

    `class_bias` is 0 on each member's classes and `-inf` on the padding past them.
    """

    body: list[torch.Tensor]  # w1 (B, in, 128), b1 (B, 1, 128), w2 (B, 128, 64), b2 (B, 1, 64)
    head: list[torch.Tensor]  # w3 (B, 64, C), b3 (B, 1, C)
    class_bias: torch.Tensor  # (B, 1, C)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """`(B, n, 64)` last hidden layer of `(B, n, in)` or `(n, in)` inputs."""
        w1, b1, w2, b2 = self.body
        return torch.relu(torch.relu(x @ w1 + b1) @ w2 + b2)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        w3, b3 = self.head
        return self.features(x) @ w3 + b3 + self.class_bias

    def member_head_probs(self, member: int, features: torch.Tensor) -> torch.Tensor:
        """One member's own classifier output (softmax over its real classes) on `(..., 64)`
        frozen features, float64: the θ of the LEEP paper, where the source network's head
        labels the target's images."""
        with torch.no_grad():
            w3, b3 = (p[member] for p in self.head)
            real = int(torch.isfinite(self.class_bias[member, 0]).sum())
            logits = features.to(w3.dtype) @ w3[:, :real] + b3[:, :real]
            return torch.softmax(logits.to(torch.float64), dim=-1)

    def member_features(self, member: int, x: np.ndarray) -> np.ndarray:
        """One member's frozen features of `(n, in)` images, float64."""
        with torch.no_grad():
            w1, b1, w2, b2 = (p[member] for p in self.body)
            h = torch.relu(torch.relu(torch.as_tensor(x) @ w1 + b1) @ w2 + b2)
        return h.numpy().astype(np.float64)


def _linear(inputs: int, outputs: int, count: int) -> list[torch.Tensor]:
    """`count` layers with `nn.Linear`'s default initialization, stacked."""
    layers = [nn.Linear(inputs, outputs) for _ in range(count)]
    weight = torch.stack([layer.weight.detach().T for layer in layers])
    bias = torch.stack([layer.bias.detach()[None, :] for layer in layers])
    return [weight, bias]


def _class_bias(classes: list[int]) -> torch.Tensor:
    width = max(classes)
    real = torch.arange(width)[None, :] < torch.tensor(classes)[:, None]
    return torch.where(real, 0.0, float("-inf"))[:, None, :]


def new_nets(classes: list[int], seed: int, inputs: int = INPUT) -> Nets:
    """Freshly initialized networks over `inputs` pixels, one per entry of `classes` (its
    number of classes)."""
    torch.manual_seed(seed)
    count = len(classes)
    body = _linear(inputs, HIDDEN[0], count) + _linear(HIDDEN[0], HIDDEN[1], count)
    return Nets(body, _linear(HIDDEN[1], max(classes), count), _class_bias(classes))


def fit(
    nets: Nets,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    steps: int,
    settings: TrainSettings,
    body_lr_scale: float = 1.0,
) -> None:
    """Trains every member in place on its rows: `x` `(B, n, in)` or shared `(n, in)`,
    `y` `(B, n)`, `mask` `(B, n)` (1 on real rows); the body at `body_lr_scale` × the rate."""
    body = [p.requires_grad_(True) for p in nets.body]
    head = [p.requires_grad_(True) for p in nets.head]
    params = body + head
    groups: list[dict[str, Any]] = [
        {"params": body, "lr": settings.lr * body_lr_scale},
        {"params": head},
    ]
    optimizer = torch.optim.Adam(
        groups,
        lr=settings.lr,
        weight_decay=settings.weight_decay,
    )
    counts = mask.sum(dim=-1).to(torch.float32)
    for _ in range(steps):
        optimizer.zero_grad()
        log_p = torch.log_softmax(nets.logits(x), dim=-1)
        nll = -log_p.gather(-1, y[..., None].expand(*log_p.shape[:-1], 1))[..., 0]
        loss = ((nll * mask).sum(dim=-1) / counts).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
    for p in params:
        p.requires_grad_(False)


def train_sources(
    data: list[tuple[np.ndarray, np.ndarray]],
    classes: list[int],
    settings: TrainSettings,
    seed: int = 0,
) -> Nets:
    """One network per source task, trained on its images (padded into one batch)."""
    nets = new_nets(classes, seed, inputs=data[0][0].shape[1])
    fit(nets, *pad(data), settings.source_steps, settings)
    return nets


def pad(
    data: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`(x (B, n, in), y (B, n), mask (B, n))` of tasks of different sizes, zero-padded."""
    n_max = max(len(y) for _, y in data)
    x = torch.zeros(len(data), n_max, data[0][0].shape[1])
    y = torch.zeros(len(data), n_max, dtype=torch.int64)
    mask = torch.zeros(len(data), n_max)
    for i, (xi, yi) in enumerate(data):
        x[i, : len(yi)] = torch.as_tensor(xi)
        y[i, : len(yi)] = torch.as_tensor(yi)
        mask[i, : len(yi)] = 1.0
    return x, y, mask


def fine_tune_accuracies(
    sources: Nets,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    classes: int,
    settings: TrainSettings,
    seed: int,
) -> tuple[np.ndarray, float]:
    """Test accuracies after training on the target's few images.

    Every source network's body gets one new head (the same for all, drawn from `seed`) and
    is fine-tuned with its body at `settings.body_lr_scale` × the rate; the scratch network
    is a fresh body with that head, trained at the full rate. All train on the same images
    for the same steps.

    Returns:
        `(accuracy of each source's fine-tune (S,), the scratch network's accuracy)`.
    """
    count = sources.body[0].shape[0]
    fresh = new_nets([classes], seed, inputs=sources.body[0].shape[1])
    head = [q.expand(count, *q.shape[1:]).clone() for q in fresh.head]
    tuned = Nets([p.detach().clone() for p in sources.body], head, torch.zeros(count, 1, classes))
    x = torch.as_tensor(train[0])
    y = torch.as_tensor(train[1], dtype=torch.int64)
    fit(
        tuned,
        x,
        y.expand(count, -1),
        torch.ones(count, len(y)),
        settings.target_steps,
        settings,
        body_lr_scale=settings.body_lr_scale,
    )
    fit(fresh, x, y[None, :], torch.ones(1, len(y)), settings.target_steps, settings)
    test_x = torch.as_tensor(test[0])
    with torch.no_grad():
        predicted = torch.cat([tuned.logits(test_x), fresh.logits(test_x)]).argmax(dim=-1)
    accuracy = (predicted.numpy() == test[1][None, :]).mean(axis=1)
    return accuracy[:count], float(accuracy[count])
