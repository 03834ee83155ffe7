"""Baselines for asymmetric pair relations, on the same `[mean; variance]` features as Task2Box.

Every baseline has the same small interface (`PairBaseline`): `fit` on supervised ordered pairs
`(i, j)` with targets `y ≈ P(i ⊆ j)`, then `score(x, i, j)`, higher meaning "i more likely
lies under j". Scores need not be probabilities: the benchmark tunes a threshold on them.

- `PairClassifier`: an MLP on `[x_i; x_j]` (the paper's MLP baseline), or with no hidden layer
  the linear model (logistic regression on the same pair features).
- `GaussianKL`: `exp(-KL(N_i ‖ N_j) / d)` between diagonal Gaussians whose mean and variance are
  the two halves of the feature vector. KL(child ‖ parent) is small when the child's labels sit
  inside the parent's broader spread, and large the other way round.
- `AsymmetricCosine`: `cos(m_i, m_j) + α·(g_j − g_i)/σ_g`: cosine of the label-embedding means
  plus a generality term, g = total label variance (a broader dataset has spread-out labels),
  in the spirit of Task2Vec's asymmetric distance. α is fitted on the training pairs.
- `RandomScores`: uniform scores, the floor every model must beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from torch import nn

# Pairs whose target is at least this are the positives for the rank-based fits below.
_POSITIVE = 0.999


class PairBaseline(Protocol):
    """The interface shared by every baseline."""

    name: str

    def fit(
        self,
        x: np.ndarray,
        pairs: np.ndarray,
        y: np.ndarray,
        *,
        val: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> PairBaseline:
        """Learns from ordered `pairs` `(M, 2)` with targets `y` `(M,)` in [0, 1]."""
        ...

    def score(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """`(len(i),)` scores for "i lies under j"."""
        ...


def _check_pairs(x: np.ndarray, pairs: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2:
        raise ValueError(f"x must be (N, D), got shape {x.shape}")
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) != len(y):
        raise ValueError(f"pairs must be (M, 2) matching y (M,), got {pairs.shape}, {y.shape}")
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= len(x)):
        raise ValueError(
            f"pair indices must be in [0, {len(x)}), got [{pairs.min()}, {pairs.max()}]"
        )


def _split_mean_var(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if x.shape[1] % 2:
        raise ValueError(f"[mean; variance] features need an even width, got {x.shape[1]}")
    d = x.shape[1] // 2
    return x[:, :d].astype(np.float64), x[:, d:].astype(np.float64)


def rank_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of `scores` for the boolean `positive`, ties counted half; 0.5 if one class."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    # Average the ranks of tied scores so that ties count one half.
    _, inverse = np.unique(scores, return_inverse=True)
    ranks = (np.bincount(inverse, ranks) / np.bincount(inverse))[inverse]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


class RandomScores:
    """Uniform random scores in [0, 1), reproducible from the seed."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def fit(
        self,
        x: np.ndarray,
        pairs: np.ndarray,
        y: np.ndarray,
        *,
        val: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> RandomScores:
        _check_pairs(x, pairs, y)
        del val
        return self

    def score(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        del x, j
        return self._rng.random(len(i))


class GaussianKL:
    """`exp(-KL(N_i ‖ N_j) / d)`; the variance floor is picked by training-pair AUC.

    Args:
        floors: candidate variance floors; label-embedding variances of a 2-label dataset are
            near zero in many dimensions, and the floor bounds the KL those dimensions add.
    """

    name = "kl"

    def __init__(self, floors: Sequence[float] = (1e-5, 1e-4, 1e-3)) -> None:
        if not floors or min(floors) <= 0:
            raise ValueError(f"variance floors must be positive, got {floors}")
        self.floors = tuple(floors)
        self.floor = self.floors[0]

    @staticmethod
    def kl(x: np.ndarray, i: np.ndarray, j: np.ndarray, floor: float) -> np.ndarray:
        """Per-pair `KL(N_i ‖ N_j)` between diagonal Gaussians, nats."""
        mean, var = _split_mean_var(x)
        vi, vj = np.maximum(var[i], floor), np.maximum(var[j], floor)
        diff = mean[i] - mean[j]
        terms = np.log(vj / vi) + (vi + diff * diff) / vj - 1.0
        out: np.ndarray = 0.5 * terms.sum(axis=1)
        return out

    def fit(
        self,
        x: np.ndarray,
        pairs: np.ndarray,
        y: np.ndarray,
        *,
        val: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> GaussianKL:
        _check_pairs(x, pairs, y)
        del val
        positive = y >= _POSITIVE
        aucs = [rank_auc(-self.kl(x, pairs[:, 0], pairs[:, 1], f), positive) for f in self.floors]
        self.floor = self.floors[int(np.argmax(aucs))]
        return self

    def score(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        d = x.shape[1] // 2
        out: np.ndarray = np.exp(-self.kl(x, i, j, self.floor) / d)
        return out


class AsymmetricCosine:
    """`cos(m_i, m_j) + α·(g_j − g_i)/σ_g`, with α picked by training-pair AUC.

    The cosine term is symmetric, so the direction of a prediction comes only from the
    generality term: "i under j" needs j's labels to be more spread out than i's.
    """

    name = "asym-cosine"

    def __init__(self, alphas: Sequence[float] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)) -> None:
        if not alphas or min(alphas) <= 0:
            raise ValueError(f"alphas must be positive, got {alphas}")
        self.alphas = tuple(alphas)
        self.alpha = self.alphas[0]
        self._scale = 1.0

    def _parts(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, var = _split_mean_var(x)
        unit = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
        general = var.sum(axis=1) / self._scale
        return np.einsum("md,md->m", unit[i], unit[j]), general[j] - general[i]

    def fit(
        self,
        x: np.ndarray,
        pairs: np.ndarray,
        y: np.ndarray,
        *,
        val: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> AsymmetricCosine:
        _check_pairs(x, pairs, y)
        del val
        seen = np.unique(pairs)
        _, var = _split_mean_var(x)
        self._scale = float(max(var[seen].sum(axis=1).std(), 1e-12)) if seen.size else 1.0
        cos, gen = self._parts(x, pairs[:, 0], pairs[:, 1])
        positive = y >= _POSITIVE
        aucs = [rank_auc(cos + a * gen, positive) for a in self.alphas]
        self.alpha = self.alphas[int(np.argmax(aucs))]
        return self

    def score(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        cos, gen = self._parts(x, i, j)
        return cos + self.alpha * gen


class _PairNet(nn.Module):
    """An MLP on `[x_i; x_j]`, with its first layer applied per node.

    `W [x_i; x_j] = W_a x_i + W_b x_j`, so projecting the N nodes once and adding rows per pair
    is the same network as one on concatenated pairs, at O(N·D·h + M·h) instead of O(M·D·h).
    """

    def __init__(self, d_in: int, hidden: Sequence[int]) -> None:
        super().__init__()
        width = hidden[0] if hidden else 1
        self.left = nn.Linear(d_in, width)
        self.right = nn.Linear(d_in, width, bias=False)
        layers: list[nn.Module] = []
        if hidden:  # with no hidden layer, left + right already is the linear model's logit
            for a, b in zip(hidden, [*hidden[1:], 1], strict=True):
                layers += [nn.ReLU(), nn.Linear(a, b)]
        self.head = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        pre = self.left(x)[i] + self.right(x)[j]
        logits: torch.Tensor = self.head(pre).squeeze(-1)  # shape (M,)
        return logits


class PairClassifier:
    """A pair classifier on standardized `[x_i; x_j]`, trained with BCE on the soft targets.

    Args:
        hidden: hidden widths; `()` is the linear model (logistic regression).
        epochs: full-batch AdamW steps at most.
        lr: learning rate.
        weight_decay: AdamW weight decay (the L2 of the linear model).
        patience: epochs without a better validation loss before stopping (needs `val`).
        seed: initialization seed.
        device: torch device.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (64,),
        *,
        epochs: int = 150,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        patience: int = 40,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        if epochs < 1 or any(h < 1 for h in hidden):
            raise ValueError(f"epochs and hidden widths must be >= 1, got {epochs}, {hidden}")
        self.name = "mlp" if hidden else "linear"
        self.hidden = tuple(hidden)
        self.epochs, self.lr, self.weight_decay = epochs, lr, weight_decay
        self.patience, self.seed, self.device = patience, seed, torch.device(device)
        self._net: _PairNet | None = None
        self._mu = np.zeros(0)
        self._sd = np.ones(0)

    def _x(self, x: np.ndarray) -> torch.Tensor:
        z = (x.astype(np.float64) - self._mu) / self._sd
        return torch.as_tensor(z, dtype=torch.float32, device=self.device)

    def _idx(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.int64), device=self.device)

    def fit(
        self,
        x: np.ndarray,
        pairs: np.ndarray,
        y: np.ndarray,
        *,
        val: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> PairClassifier:
        _check_pairs(x, pairs, y)
        seen = np.unique(pairs)  # standardize on the nodes training sees, never held-out ones
        self._mu = x[seen].astype(np.float64).mean(axis=0)
        self._sd = x[seen].astype(np.float64).std(axis=0) + 1e-6
        xt = self._x(x)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = _PairNet(x.shape[1], self.hidden).to(self.device)
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss()
        i, j = self._idx(pairs[:, 0]), self._idx(pairs[:, 1])
        target = torch.as_tensor(y, dtype=torch.float32, device=self.device)
        best, best_state, since = float("inf"), None, 0
        for _ in range(self.epochs):
            net.train()
            opt.zero_grad()
            loss = loss_fn(net(xt, i, j), target)
            loss.backward()
            opt.step()
            if val is None:
                continue
            net.eval()
            with torch.no_grad():
                vp, vy = val
                v_loss = float(
                    loss_fn(
                        net(xt, self._idx(vp[:, 0]), self._idx(vp[:, 1])),
                        torch.as_tensor(vy, dtype=torch.float32, device=self.device),
                    )
                )
            if v_loss < best - 1e-5:
                best, since = v_loss, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                since += 1
                if since >= self.patience:
                    break
        if best_state is not None:
            net.load_state_dict(best_state)
        self._net = net.eval()
        return self

    def score(self, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self._net is None:
            raise RuntimeError("fit() must be called before score()")
        with torch.no_grad():
            logits = self._net(self._x(x), self._idx(i), self._idx(j))
        return torch.sigmoid(logits).cpu().numpy().astype(np.float64)
