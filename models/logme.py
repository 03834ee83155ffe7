"""LogME (You et al. 2021) from sufficient statistics, for many (entry, class) problems at once.

LogME is the maximum log evidence per sample of a Bayesian linear model from features `F`
(`n × d`) to one-hot labels `Y`. It depends on `F` and `Y` only through `FᵀF`, `FᵀY`, the
class counts and `n`, so `logme_of_gram` takes those: the transfer estimate of N² pairs
passes each pair's `C × C` Gram of probe outputs and never revisits the `(n, C)` outputs.
`models.transferability.logme` is the same score from features and labels.
"""

from __future__ import annotations

import math

import torch

# LogME's fixed point: the paper stops at a 1% change of α/β; a tighter bound makes the
# batched iteration agree with a one-class-at-a-time loop regardless of evaluation order.
LOGME_TOL = 1e-5
LOGME_MAX_ITER = 200
_LOGME_EPS = 1e-5
# α and β stay above this: with features that are all zero (or a class no feature varies
# with) the fixed point drives α to 0, and `log α` terms that cancel exactly would give NaN.
LOGME_FLOOR = 1e-12
# (class, eigenvalue) elements per chunk of the fixed point on a CPU: a few MiB of float64.
_CHUNK_ELEMENTS = 1 << 19


def logme_of_gram(
    gram: torch.Tensor,
    fty: torch.Tensor,
    counts: torch.Tensor,
    n: torch.Tensor,
    classes: torch.Tensor,
) -> torch.Tensor:
    """LogME from the sufficient statistics of features `F` and one-hot labels `Y`.

    The evidence depends on `F` and `Y` only through `FᵀF`, `FᵀY`, the class counts and `n`,
    so a caller with `d ≪ n` (a probe's `C`-dim outputs) passes those and the `(n, d)`
    features are never revisited. The fixed point over (α, β) runs in the eigenbasis of
    `FᵀF`, where it depends on the two only through `λ = α/β`: one iteration costs O(d) per
    (entry, class). Each (entry, class) stops once `α/β` changes by less than `LOGME_TOL`
    (relative), as a one-class-at-a-time loop would, and converged ones leave the batch, so
    the slowest class does not set the work of all the others.

    Args:
        gram: `(..., d, d)` `FᵀF`.
        fty: `(..., d, C)` `FᵀY`.
        counts: `(..., C)` samples per class (0 on padded classes).
        n: `(...)` samples.
        classes: `(...)` int64 real classes (the first `classes` columns of `Y`).

    Returns:
        `(...)` LogME, float64, averaged over each entry's classes.
    """
    gram, fty = gram.to(torch.float64), fty.to(torch.float64)
    batch, d, c_max = gram.shape[:-2], gram.shape[-1], fty.shape[-1]
    s, v = torch.linalg.eigh(gram)
    s = s.clamp_min(0.0).reshape(-1, d)  # (P, d)
    tmp = (v.transpose(-1, -2) @ fty).reshape(-1, d, c_max)  # (P, d, C)
    pairs = s.shape[0]
    classes = classes.expand(batch).reshape(pairs)
    real = torch.arange(c_max, device=classes.device)[None, :] < classes[:, None]  # (P, C)
    entry, cls = real.nonzero(as_tuple=True)  # one (entry, class) per row
    s_e = s[entry]  # (E, d)
    t2 = tmp[entry, :, cls] ** 2  # (E, d): squared Vᵀ Fᵀ y_k
    yy = counts.to(torch.float64).expand(*batch, c_max).reshape(pairs, c_max)[entry, cls]
    n_e = n.to(torch.float64).expand(batch).reshape(pairs)[entry]
    # On a CPU, in chunks whose `(chunk, d)` arrays stay in cache: the iteration is many
    # cheap passes. A GPU takes all at once (each pass there is a kernel launch, not a sweep).
    chunk = max(1, _CHUNK_ELEMENTS // d) if s.device.type == "cpu" else len(entry)
    parts = [
        _logme_fixed_point(
            s_e[i : i + chunk], t2[i : i + chunk], yy[i : i + chunk], n_e[i : i + chunk]
        )
        for i in range(0, len(entry), chunk)
    ]
    alpha, beta, alpha_de, beta_de = (torch.cat(column) for column in zip(*parts, strict=True))
    evidence = (
        d / 2.0 * torch.log(alpha)
        + n_e / 2.0 * torch.log(beta)
        - 0.5 * torch.log(alpha[:, None] + beta[:, None] * s_e).sum(dim=-1)
        - beta / 2.0 * (beta_de + _LOGME_EPS)
        - alpha / 2.0 * (alpha_de + _LOGME_EPS)
        - n_e / 2.0 * math.log(2 * math.pi)
    ) / n_e
    total = torch.zeros(pairs, dtype=torch.float64, device=s.device).index_add_(0, entry, evidence)
    return (total / classes.to(torch.float64)).reshape(batch)


def _logme_fixed_point(
    s: torch.Tensor, t2: torch.Tensor, yy: torch.Tensor, n: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MacKay's (α, β) updates for E independent problems, until each converges.

    With `r = 1/(s + λ)`, the posterior mean is `m = V (t · r)`, so `‖m‖² = Σ t² r²` and
    `‖y − F m‖² = ‖y‖² − 2 Σ t² r + Σ s t² r² = ‖y‖² − Σ t² r − λ Σ t² r²` (`s·r = 1 − λ r`).

    Args:
        s: `(E, d)` eigenvalues of `FᵀF`; t2: `(E, d)` `(Vᵀ Fᵀ y)²`; yy: `(E,)` `‖y‖²`;
            n: `(E,)` samples.

    Returns:
        `(α, β, ‖m‖², ‖y − F m‖²)`, each `(E,)`, at each problem's last update.
    """
    out = [torch.ones_like(yy), torch.ones_like(yy), torch.zeros_like(yy), torch.zeros_like(yy)]
    ids = torch.arange(len(yy), device=yy.device)
    work = [t.clone() for t in out]  # α, β, α_de, β_de of the problems still in the batch
    active = torch.ones_like(yy, dtype=torch.bool)
    for _ in range(LOGME_MAX_ITER):
        alpha, beta = work[0], work[1]
        lam = alpha / beta
        r = (s + lam[:, None]).reciprocal_()
        gamma = (s * r).sum(dim=-1)
        tr = t2 * r
        alpha_de = (tr * r).sum(dim=-1)
        beta_de = (yy - tr.sum(dim=-1) - lam * alpha_de).clamp_min(0.0)
        new = [
            (gamma / (alpha_de + _LOGME_EPS)).clamp_min(LOGME_FLOOR),
            ((n - gamma) / (beta_de + _LOGME_EPS)).clamp_min(LOGME_FLOOR),
            alpha_de,
            beta_de,
        ]
        work = [torch.where(active, a, b) for a, b in zip(new, work, strict=True)]
        active = active & ((work[0] / work[1] - lam).abs() / lam >= LOGME_TOL)
        left = int(active.sum())
        if left == 0:
            break
        if left <= 3 * len(ids) // 4:
            # Hand the converged problems back and shrink the batch to the rest.
            done = ~active
            for o, w in zip(out, work, strict=True):
                o[ids[done]] = w[done]
            ids, s, t2, yy, n = ids[active], s[active], t2[active], yy[active], n[active]
            work = [w[active] for w in work]
            active = active[active]
    for o, w in zip(out, work, strict=True):
        o[ids] = w
    return out[0], out[1], out[2], out[3]


__all__ = ["LOGME_FLOOR", "LOGME_MAX_ITER", "LOGME_TOL", "logme_of_gram"]
