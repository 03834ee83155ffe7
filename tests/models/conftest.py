"""Shared fixtures for the research-core tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _one_torch_thread() -> Iterator[None]:
    # These tests run tiny matmuls, where a second thread only adds contention (on a shared
    # 2-core machine it made them ~10x slower); restore the setting for other packages.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
