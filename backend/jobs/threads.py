"""The CPU threads torch may use for a training job's fit."""

from __future__ import annotations

from models.device import use_threads


def use_train_threads(threads: int) -> None:
    """Sets torch's intra-op CPU threads for the fits the calling thread runs next; 0 leaves
    torch's default. See `Settings.train_threads` for why one is the default, and
    `models.device.use_threads` for why it is set in the thread that fits."""
    if threads > 0:
        use_threads(threads)
