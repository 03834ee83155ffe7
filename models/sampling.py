"""Which ordered pairs a training epoch sees.

- `full_batch_pairs`: every supervised pair, every epoch (small N; O(N²) when closed-world).
- `SampledPlan`: positives (all, or a fresh uniform draw of them) + random negatives + hard
  negatives per epoch, so an epoch costs O(edges) or O(draw), never O(N²): a closed world of
  10,000 datasets has 10⁸ ordered pairs, and a Hub-like one tens of millions of positives.

Indices here are *local*: positions in the training universe, not rows of the full `x`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models import scoring
from models.pairs import PairLookup

# Random negatives drawn per epoch when there are (almost) no positives to corrupt.
_MIN_RANDOM_NEGATIVES = 1024
# Exact kNN on centres costs anchors × universe; above this many nodes each refresh takes a
# fresh random subset of anchors (over refreshes, every node gets its turn).
_MAX_KNN_ANCHORS = 4_096
_KNN_CHUNK = 1024


@dataclass(frozen=True)
class EpochPairs:
    """One epoch's supervised pairs (local indices) and targets."""

    i: np.ndarray
    j: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def where(self, index: np.ndarray) -> EpochPairs:
        """The pairs at `index` (a boolean mask or positions)."""
        return EpochPairs(self.i[index], self.j[index], self.y[index])

    def batches(self, batch_pairs: int, rng: np.random.Generator) -> list[EpochPairs]:
        """Shuffle and split into batches of at most `batch_pairs` pairs."""
        if len(self) <= batch_pairs:
            return [self]
        order = rng.permutation(len(self))
        return [
            EpochPairs(self.i[s], self.j[s], self.y[s])
            for s in np.array_split(order, -(-len(self) // batch_pairs))
        ]


def full_batch_pairs(
    i: np.ndarray, j: np.ndarray, y: np.ndarray, n_local: int, closed_world: bool
) -> EpochPairs:
    """Every supervised pair: the listed ones, or all ordered distinct pairs if closed-world."""
    if not closed_world:
        return EpochPairs(i, j, y)
    ii, jj = np.divmod(np.arange(n_local * n_local, dtype=np.int64), n_local)
    off_diagonal = ii != jj
    ii, jj = ii[off_diagonal], jj[off_diagonal]
    return EpochPairs(ii, jj, PairLookup(i, j, y, n_local)(ii, jj))


def count_full_batch_pairs(n_listed: int, n_local: int, closed_world: bool) -> int:
    """How many pairs `full_batch_pairs` would produce."""
    return n_local * (n_local - 1) if closed_world else n_listed


class SampledPlan:
    """Per-epoch pair sampling for large universes.

    Args:
        i, j, y: listed pairs (local indices).
        n_local: size of the training universe.
        closed_world: unlisted pairs are negatives (else only listed pairs are used).
        negatives_per_positive: random negatives per positive pair and epoch.
        hard_negatives_per_positive: hard negatives per positive pair and epoch.
        neighbors: closed-world: neighbours per node (by box centre) that hard negatives
            are drawn from.
        positives_per_epoch: draw at most this many positives per epoch (uniformly, with
            replacement: O(draw) per epoch whatever the number of positives); `None`: all.
        nodes_per_epoch: closed world: draw each epoch's pairs among this many nodes picked
            at random (a random subgraph: every pair is in it with the same chance, so each
            dataset keeps its share), so a step's forward and backward pass covers at most
            that many nodes whatever the universe's size; `None`: every node.
    """

    def __init__(
        self,
        i: np.ndarray,
        j: np.ndarray,
        y: np.ndarray,
        n_local: int,
        *,
        closed_world: bool,
        negatives_per_positive: int,
        hard_negatives_per_positive: int,
        neighbors: int,
        positives_per_epoch: int | None = None,
        nodes_per_epoch: int | None = None,
    ) -> None:
        self._n = n_local
        self._draw = positives_per_epoch
        self._nodes = nodes_per_epoch if closed_world and nodes_per_epoch else None
        self._closed = closed_world
        self._k = negatives_per_positive
        self._h = hard_negatives_per_positive
        self._neighbors = max(1, min(neighbors, n_local - 1))
        pos = y > 0
        self._pos = EpochPairs(i[pos], j[pos], y[pos])
        self._pool = EpochPairs(i[~pos], j[~pos], y[~pos])  # open world: listed negatives
        self._lookup = PairLookup(i, j, y, n_local)
        self._hard: EpochPairs | None = None

    @property
    def n_positive(self) -> int:
        """Number of positive pairs."""
        return len(self._pos)

    @property
    def positives_per_epoch(self) -> int:
        """How many positives an epoch sees."""
        n_pos = self.n_positive
        return n_pos if self._draw is None else min(n_pos, self._draw)

    def refresh_hard_negatives(
        self,
        lo: np.ndarray,
        hi: np.ndarray,
        *,
        beta: float,
        gumbel_beta: float | None,
        rng: np.random.Generator,
        device: torch.device | None = None,
    ) -> None:
        """Recompute the hard-negative candidates from the current boxes (local order).

        Closed world: ordered pairs between each node and its nearest box centres.
        Open world: the listed negatives that the current boxes score highest.
        """
        if self._h == 0:
            return
        n_hard = self._h * max(1, self.positives_per_epoch)
        if self._closed:
            a, b = _nearest_pairs((lo + hi) / 2, self._neighbors, rng, device)
            both_i, both_j = np.r_[a, b], np.r_[b, a]
            self._hard = EpochPairs(both_i, both_j, self._lookup(both_i, both_j))
            return
        if len(self._pool) == 0:
            return
        pi, pj = self._pool.i, self._pool.j
        p = scoring.containment_pairs(
            lo[pi], hi[pi], lo[pj], hi[pj], beta=beta, gumbel_beta=gumbel_beta
        )
        top = np.argsort(-p, kind="stable")[:n_hard]
        self._hard = EpochPairs(self._pool.i[top], self._pool.j[top], self._pool.y[top])

    def epoch_pairs(self, rng: np.random.Generator) -> EpochPairs:
        """The epoch's positives + `k` random negatives and `h` hard negatives per positive,
        all among the epoch's nodes (every node, or a random subgraph of them)."""
        positives, hard, pool = self._pos, self._hard, None
        if self._nodes is not None and self._nodes < self._n:
            pool = rng.choice(self._n, size=self._nodes, replace=False)
            member = np.zeros(self._n, dtype=bool)
            member[pool] = True
            positives = positives.where(member[positives.i] & member[positives.j])
            if hard is not None:
                hard = hard.where(member[hard.i] & member[hard.j])
        n_pos = len(positives) if self._draw is None else min(len(positives), self._draw)
        drawn = positives
        if n_pos < len(positives):
            drawn = positives.where(rng.integers(0, len(positives), size=n_pos))
        n_rand = max(self._k * n_pos, _MIN_RANDOM_NEGATIVES if self._k > 0 else 0)
        parts = [drawn, self._random_negatives(n_rand, rng, positives, pool)]
        if hard is not None and len(hard):
            n_hard = min(len(hard), self._h * max(1, n_pos))
            parts.append(hard.where(rng.choice(len(hard), size=n_hard, replace=False)))
        return EpochPairs(
            np.concatenate([p.i for p in parts]),
            np.concatenate([p.j for p in parts]),
            np.concatenate([p.y for p in parts]),
        )

    def _random_negatives(
        self,
        count: int,
        rng: np.random.Generator,
        positives: EpochPairs,
        pool: np.ndarray | None,
    ) -> EpochPairs:
        """`count` random pairs (closed world: `positives` with one side replaced by a node
        of `pool`, or of the universe when it is None), their targets looked up."""
        if count == 0:
            return EpochPairs(*(np.zeros(0, np.int64),) * 2, np.zeros(0, np.float32))
        if not self._closed:
            if len(self._pool) == 0:
                return EpochPairs(*(np.zeros(0, np.int64),) * 2, np.zeros(0, np.float32))
            pick = rng.integers(0, len(self._pool), size=min(count, len(self._pool)))
            return self._pool.where(pick)

        def nodes(size: int) -> np.ndarray:
            if pool is None:
                return rng.integers(0, self._n, size=size)
            return pool[rng.integers(0, pool.size, size=size)]

        if len(positives):
            # Corrupt one side of a positive: negatives follow the positives' node frequency.
            src = rng.integers(0, len(positives), size=count)
            swap_i = rng.random(count, dtype=np.float32) < 0.5
            noise = nodes(count)
            # `where`, not masked assignment: one pass each, no boolean-index gathers.
            i = np.where(swap_i, noise, positives.i[src])
            j = np.where(swap_i, positives.j[src], noise)
        else:
            i, j = nodes(count), nodes(count)
        keep = i != j
        i, j = i[keep], j[keep]
        return EpochPairs(i, j, self._lookup(i, j))


def _nearest_pairs(
    centers: np.ndarray, k: int, rng: np.random.Generator, device: torch.device | None
) -> tuple[np.ndarray, np.ndarray]:
    """`(anchor, neighbour)` pairs: each anchor's `k` nearest other centres (Euclidean)."""
    n = centers.shape[0]
    anchors = np.arange(n)
    if n > _MAX_KNN_ANCHORS:
        anchors = np.sort(rng.choice(n, size=_MAX_KNN_ANCHORS, replace=False))
    c = torch.from_numpy(np.ascontiguousarray(centers, dtype=np.float32)).to(device)
    c = c - c.mean(dim=0)  # centred: smaller norms, less cancellation in the expansion below
    sq_norm = (c * c).sum(dim=1)
    out_a, out_b = [], []
    for start in range(0, anchors.size, _KNN_CHUNK):
        rows = anchors[start : start + _KNN_CHUNK]
        rows_t = torch.from_numpy(rows).to(c.device)
        # ‖a - b‖² - ‖a‖² = ‖b‖² - 2a·b ranks each anchor's row exactly like the distance,
        # in one fused matmul (no per-pair norm, clamp or sqrt passes as in `cdist`).
        dist = torch.addmm(sq_norm[None], c[rows_t], c.T, alpha=-2.0)
        dist[torch.arange(rows.size, device=c.device), rows_t] = float("inf")  # not itself
        nearest = dist.topk(k, dim=1, largest=False).indices.cpu().numpy()
        out_a.append(np.repeat(rows, k))
        out_b.append(nearest.reshape(-1))
    return np.concatenate(out_a), np.concatenate(out_b)
