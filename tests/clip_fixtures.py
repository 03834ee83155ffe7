"""A tiny CLIP with random weights, saved as a local model directory.

The app loads it with `from_pretrained(path)`, as it loads real weights from the Hub cache, so
everything but the weight download runs the real code path.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def tiny_clip(path: Path, *, seed: int = 0) -> Path:
    """Writes a tiny random-weight CLIP (model and image processor) to `path`; returns it."""
    from benchmarks.transfer_estimate.clip_speed import save_random_clip

    tiny = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1}
    return save_random_clip(
        path,
        text={**tiny, "vocab_size": 64, "num_attention_heads": 2, "max_position_embeddings": 16},
        vision={**tiny, "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        projection_dim=8,
        image_side=32,
        seed=seed,
    )


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight CLIP saved as a local model folder, shared by the session."""
    return tiny_clip(tmp_path_factory.mktemp("tiny-clip"))
