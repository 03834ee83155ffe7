"""What a containment fit will cost, decided before it runs.

Two questions, both answered from counts alone (datasets, positive pairs, labels), so a job
can answer them before it allocates anything:

- **Which trainer** (`sized_vector_config`). A small closed world is trained full batch: every
  ordered pair, every epoch. A large one is trained in steps: each step picks a random
  subgraph of datasets, draws positives among them (every pair has the same chance, so each
  dataset keeps its share), adds random and hard negatives scaled to the draw, and runs for a
  step budget instead of the paper's epoch count, with early stopping on validation. A
  Hub-like atlas of 10,000 datasets has millions of positive pairs: all of them per epoch,
  times six negatives each, is hundreds of millions of pairs an epoch and days of fitting;
  a step over a fixed subgraph costs the same at any size.
- **How much memory** (`estimate_peak_bytes`). The job compares it with its limit and refuses
  with the settings to change, instead of being killed by the kernel halfway through.
  Everything a fit keeps grows with the positive pairs (targets, the held-out split, the
  sampler's copy and lookup), the datasets (features, boxes, neighbour tables) and the
  label vocabulary (embeddings, cosine matching); per-step work is bounded by the draw. The
  coefficients are per-item costs of those structures with their transient copies, rounded
  up: the estimate is meant to sit above the peak RSS that `task2box bench scale` measures
  (`benchmarks/RESULTS.md` has both), so a refused job would really not have fit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from models.sampling import count_full_batch_pairs
from models.setbox_map import MAX_LISTED_PAIRS, SAMPLED_POSITIVES
from models.train_config import TrainConfig

# Closed worlds up to this many ordered pairs (about 500 datasets) train full batch: every
# pair, every epoch, for the configured epochs. A full-batch epoch scores every ordered pair,
# so it grows as the square of the atlas, for the paper's 1350 epochs; a sampled step does
# not grow at all. The label-set model switches at the same size.
FULL_BATCH_MAX_PAIRS = MAX_LISTED_PAIRS
# A sampled vector fit: at most this many optimizer steps (one draw of positives each)...
STEP_BUDGET = 400
# ...and it stops when this many steps pass without a better validation score.
SAMPLED_PATIENCE = 100
# A sampled step draws its pairs among this many random datasets: its forward and backward
# pass, most of its cost, is then the same at 5,000 datasets or 50,000.
SAMPLED_NODES = 4_096
# Steps between validation checks of a sampled fit.
SAMPLED_EVAL_EVERY = 10
# A sampled fit projects the features onto this many principal directions first: the
# trunk's first layer, most of a step's cost, shrinks by the ratio of the input widths
# (768-d label-text vectors: 6x), and the projection is computed once per fit.
SAMPLED_FEATURE_RANK = 128
# Held-out validation datasets are refitted only when they are at least this share of the
# atlas. Validation pairs are bounded, so a large atlas holds out a few dozen datasets: a
# second fit for them costs as much as the first, and the network already places them from
# their features as it places any unseen dataset.
MIN_REFIT_SHARE = 0.02

GIB = 1 << 30
# The process before any fit: Python, torch, SQLAlchemy and the MiniLM text encoder.
_BASE_BYTES = 700 * (1 << 20)
# Per positive pair: the counted targets (int64 row, int64 column, float32 value), the
# held-out split's training copy, the sampler's positives, its hash lookup (keys and bitmap)
# and the transient arrays that build them.
_BYTES_PER_POSITIVE = 160
# Per dataset: its feature vector and transformed copies, label-set rows, boxes, and its
# rows of the neighbour tables; plus the validation pairs, which grow as n (held-out rows
# times every dataset).
_BYTES_PER_DATASET = 32 * 1024
# Per distinct label: its 384-d embedding (and a normalized copy), its key, and the
# label-set model's point features.
_BYTES_PER_LABEL = 6 * 1024
# The blocked cosine matmul over the vocabulary and one sampled step's pairs and activations
# are bounded by their block and draw sizes, whatever the atlas.
_BOUNDED_WORK_BYTES = 512 * (1 << 20)


def sized_vector_config(config: TrainConfig, n_datasets: int, n_positive: int) -> TrainConfig:
    """`config` as it fits an atlas of this size: unchanged while the closed world trains
    full batch; beyond that, a draw of positives per step, a step budget, early stopping.
    """
    limit = min(config.full_batch_max_pairs, FULL_BATCH_MAX_PAIRS)
    if count_full_batch_pairs(n_positive, n_datasets, closed_world=True) <= limit:
        return config
    return dataclasses.replace(
        config,
        full_batch_max_pairs=limit,
        positives_per_epoch=SAMPLED_POSITIVES,
        nodes_per_epoch=SAMPLED_NODES,
        epochs=min(config.epochs, STEP_BUDGET),
        patience=SAMPLED_PATIENCE if config.patience is None else config.patience,
        eval_every=min(config.eval_every, SAMPLED_EVAL_EVERY),
        feature_rank=SAMPLED_FEATURE_RANK if config.feature_rank is None else config.feature_rank,
    )


def worth_refitting(n_datasets: int, n_held_out: int) -> bool:
    """Whether refitting on every dataset after validation adds enough to pay for itself."""
    return n_held_out > 0 and n_held_out >= MIN_REFIT_SHARE * n_datasets


@dataclass(frozen=True)
class MemoryEstimate:
    """A fit's estimated peak resident memory, and what it is made of (bytes)."""

    base: int
    positives: int
    datasets: int
    labels: int
    bounded: int

    @property
    def total(self) -> int:
        return self.base + self.positives + self.datasets + self.labels + self.bounded

    def describe(self) -> str:
        parts = (
            ("base", self.base),
            ("positive pairs", self.positives),
            ("datasets", self.datasets),
            ("labels", self.labels),
            ("per-step work", self.bounded),
        )
        return ", ".join(f"{name} {value / GIB:.2f}" for name, value in parts)


def estimate_peak_bytes(n_datasets: int, n_positive: int, n_labels: int) -> MemoryEstimate:
    """The peak memory of a containment train job on an atlas of these counts.

    Args:
        n_datasets: datasets trained on.
        n_positive: positive ordered pairs of the counted targets (an upper bound before they
            are counted: every label slot's sharers).
        n_labels: distinct labels (the cosine vocabulary and the label-set model's points).
    """
    return MemoryEstimate(
        base=_BASE_BYTES,
        positives=_BYTES_PER_POSITIVE * max(0, n_positive),
        datasets=_BYTES_PER_DATASET * max(0, n_datasets),
        labels=_BYTES_PER_LABEL * max(0, n_labels),
        bounded=_BOUNDED_WORK_BYTES,
    )
