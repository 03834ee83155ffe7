"""The CPU threads torch may use for a training job's fit."""

from __future__ import annotations

import torch


def use_train_threads(threads: int) -> None:
    """Sets torch's intra-op CPU threads (process-wide) for the fits that follow; 0 leaves
    torch's default. See `Settings.train_threads` for why one is the default."""
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
