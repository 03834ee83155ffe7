"""Training jobs pin torch's CPU threads to `T2B_TRAIN_THREADS`."""

from __future__ import annotations

import torch

from backend.config import Settings
from backend.jobs.threads import use_train_threads


def test_train_threads_are_applied_and_zero_keeps_the_default() -> None:
    before = torch.get_num_threads()
    try:
        use_train_threads(Settings().train_threads)
        assert torch.get_num_threads() == 1  # the default
        use_train_threads(0)
        assert torch.get_num_threads() == 1  # 0: left as it was
        use_train_threads(2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
