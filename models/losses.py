"""Training objectives over a batch of boxes and supervised ordered pairs, selectable by name.

Every loss has the signature `loss(lo, hi, i, j, y, params) -> scalar`, where `lo, hi` are the
`(n, d)` boxes of the nodes in the batch, `i, j` are `(P,)` int64 indices into them and
`y` is the `(P,)` target `P(box_i ⊆ box_j)` in `[0, 1]`.

- `"paper"`: the Task2Box objective as in the authors' code (sums, hard intersection).
- `"ours"`: binary cross-entropy computed in log space on a Gumbel-intersection containment.
  `-log P` stays linear in the gap between disjoint boxes, so a positive pair whose boxes do
  not overlap gets a gradient of order β instead of the paper MSE's ~1e-19.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from models import ops
from models.dense_pairs import dense_pair_log_containment
from models.ours_terms import ours_terms

# "ours": the negative term -log(1 - P) is infinite at P = 1 (a negative child fully inside).
# It is evaluated at the soft cap -softplus_k(-log P) < -log(2)/k, which keeps the loss
# bounded (≈ 7.3 at k = 1000) while its gradient never drops to zero.
_NEG_CAP_SHARPNESS = 1000.0
# "paper": constants of the authors' code (oloss_mult, dloss_mult, rloss_mult).
_PAPER_OVERLAP_MULT = 100.0
_PAPER_CENTER_MULT = 0.01
_PAPER_SQUARE_MULT = 1.0
# Dense pair evaluation when pairs fill at least 1/4 of the n² grid, up to this many
# intersection coordinates (n²·d), which bounds its memory to ~100 MB with autograd.
_DENSE_MIN_FILL = 4
_DENSE_MAX_ELEMENTS = 4_000_000
# exp(-logVol/d) overflows float32 past ~88; volumes this small are already maximally penalized.
_MAX_INV_VOLUME_LOG = 80.0


@dataclass(frozen=True)
class LossParams:
    """Hyper-parameters shared by the losses.

    Attributes:
        beta: inverse volume temperature of the soft volume.
        gumbel_beta: Gumbel intersection temperature ("ours" only; `None` = hard).
        volume_weight: λ_v. "paper": weight of Σ Vol^(-1/d) (0.7 hierarchy, 0.01 transfer).
            "ours": weight of the mean inverse side `Vol^(-1/d)` (a pull towards large
            boxes; it saturates, so it never inflates a box without bound).
        pos_weight: "ours": weight of the positive term relative to the negative one.
        neg_weight: "ours": weight of the negative term.
        ratio_weight: "ours": weight of a Huber loss on `log P - log y` over the pairs with
            `y > 0`. BCE barely distinguishes P = 0.001 from y = 0.02; this term makes small
            soft targets (a dataset covering 2% of another) come out as 2%, for maps that show
            P. The hierarchy benchmark's F1 is better without it (validation splits).
    """

    beta: float = 10.0
    gumbel_beta: float | None = 0.05
    volume_weight: float = 0.0
    pos_weight: float = 1.0
    neg_weight: float = 1.0
    ratio_weight: float = 0.0


LossFn = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, LossParams],
    torch.Tensor,
]


def pair_log_containment(
    lo: torch.Tensor,
    hi: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    *,
    beta: float,
    gumbel_beta: float | None,
) -> torch.Tensor:
    """`(P,)` `log P(box_i ⊆ box_j)` for index pairs into `(n, d)` boxes."""
    return pair_log_containment_and_volume(lo, hi, i, j, beta=beta, gumbel_beta=gumbel_beta)[0]


def pair_log_containment_and_volume(
    lo: torch.Tensor,
    hi: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    *,
    beta: float,
    gumbel_beta: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`(P,)` `log P(box_i ⊆ box_j)` and the `(n,)` soft log-volumes of the boxes.

    Two exact evaluation orders, picked for speed: when the pairs cover a good part of the
    n² grid (full-batch training), every intersection is formed densely in one autograd
    node with a hand-written gradient (`models.dense_pairs`; the per-operation overhead is
    the whole cost at that size); otherwise each pair's corners are gathered. Either way each
    box's own volume is computed once per node, not per pair, and returned so that the
    volume priors reuse it.
    """
    n, d = lo.shape
    dense = i.numel() * _DENSE_MIN_FILL >= n * n and n * n * d <= _DENSE_MAX_ELEMENTS
    if dense:
        return dense_pair_log_containment(lo, hi, i, j, beta=beta, gumbel_beta=gumbel_beta)
    log_vol = ops.log_volume(lo, hi, beta=beta)
    # index_select's backward (index_add) is ~2x faster than advanced indexing's.
    ilo, ihi = ops.intersection(
        lo.index_select(0, i),
        hi.index_select(0, i),
        lo.index_select(0, j),
        hi.index_select(0, j),
        gumbel_beta=gumbel_beta,
    )
    log_int = ops.log_volume(ilo, ihi, beta=beta)
    return (log_int - log_vol.index_select(0, i)).clamp(max=0.0), log_vol


def paper_loss(
    lo: torch.Tensor,
    hi: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    y: torch.Tensor,
    params: LossParams,
) -> torch.Tensor:
    """The paper's objective (sums, as in the authors' training script).

    `100·Σ_pairs (P - y)² + λ_v·Σ_boxes Vol^(-1/d) + 0.01·Σ_{y>0} ‖c_i - c_j‖²
    + Σ_boxes Σ_{k<l} |s_k - s_l| / d²`, with the hard intersection and soft volume at β.
    """
    d = lo.shape[1]
    log_p, log_vol = pair_log_containment_and_volume(
        lo, hi, i, j, beta=params.beta, gumbel_beta=None
    )
    overlap = _PAPER_OVERLAP_MULT * ((torch.exp(log_p) - y) ** 2).sum()
    inv_vol = torch.exp((-log_vol / d).clamp(max=_MAX_INV_VOLUME_LOG)).sum()
    centers = (lo + hi) / 2
    pos = y > 0
    center = ((centers.index_select(0, i[pos]) - centers.index_select(0, j[pos])) ** 2).sum()
    sides = hi - lo
    # Σ_{k<l} |s_k - s_l|: each unordered axis pair once, as in the authors' loop.
    square = (sides[:, :, None] - sides[:, None, :]).abs().sum() / 2
    return (
        overlap
        + params.volume_weight * inv_vol
        + _PAPER_CENTER_MULT * center
        + _PAPER_SQUARE_MULT * square / d**2
    )


def ours_loss(
    lo: torch.Tensor,
    hi: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    y: torch.Tensor,
    params: LossParams,
) -> torch.Tensor:
    """Weighted binary cross-entropy on `P(i ⊆ j)`, in log space, plus a volume prior.

    `-(w·y·log P + (1 - y)·log(1 - P))`, averaged with weights `w = pos_weight` on the
    positive part; `log(1 - P)` comes from `log P` through a stable `log1mexp`. Soft targets
    `y ∈ (0, 1)` are supported. The prior adds `volume_weight · mean_n Vol_n^(-1/d)`: boxes
    grow until a negative pair stops them, so a parent fills the room its children leave and
    a child whose direct edge was never supervised still lands inside it.
    """
    log_p, log_vol = pair_log_containment_and_volume(
        lo, hi, i, j, beta=params.beta, gumbel_beta=params.gumbel_beta
    )
    # The terms after the geometry, as one autograd node (`models.ours_terms`).
    return ours_terms(
        log_p,
        log_vol,
        y,
        dim=lo.shape[1],
        pos_weight=params.pos_weight,
        neg_weight=params.neg_weight,
        ratio_weight=params.ratio_weight,
        volume_weight=params.volume_weight,
        cap_sharpness=_NEG_CAP_SHARPNESS,
        max_inv_volume_log=_MAX_INV_VOLUME_LOG,
    )


@dataclass(frozen=True)
class LossSpec:
    """A registered loss and how a model trained with it must be scored.

    Attributes:
        name: registry name.
        fn: the loss function.
        uses_gumbel: whether containment is read with the Gumbel intersection.
        default_volume_weight: λ_v when the training config leaves it unset.
    """

    name: str
    fn: LossFn
    uses_gumbel: bool
    default_volume_weight: float

    def __call__(
        self,
        lo: torch.Tensor,
        hi: torch.Tensor,
        i: torch.Tensor,
        j: torch.Tensor,
        y: torch.Tensor,
        params: LossParams,
    ) -> torch.Tensor:
        """Evaluate the loss (see the module docstring for shapes)."""
        return self.fn(lo, hi, i, j, y, params)


_LOSSES: dict[str, LossSpec] = {
    "ours": LossSpec("ours", ours_loss, uses_gumbel=True, default_volume_weight=0.0),
    "paper": LossSpec("paper", paper_loss, uses_gumbel=False, default_volume_weight=0.7),
}
LOSS_NAMES: tuple[str, ...] = tuple(_LOSSES)


def get_loss(name: str) -> LossSpec:
    """The registered loss called `name`.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    try:
        return _LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; valid losses: {', '.join(LOSS_NAMES)}") from None


__all__ = [
    "LOSS_NAMES",
    "LossFn",
    "LossParams",
    "LossSpec",
    "get_loss",
    "ours_loss",
    "pair_log_containment",
    "pair_log_containment_and_volume",
    "paper_loss",
]
