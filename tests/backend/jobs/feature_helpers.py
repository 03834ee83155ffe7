"""What the image-feature job tests share: the tiny local CLIP, and the index's rows."""

from __future__ import annotations

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.jobs import image_features as job
from backend.representations.clip_images import ClipImageEmbedder


def local_embedder(settings: Settings) -> ClipImageEmbedder:
    """The configured CLIP from its local folder, never downloaded."""
    return job.embedder_for(settings, local_files_only=True)


def feature_states(sessions: SessionFactory, model: str) -> dict[str, repository.ImageFeatureState]:
    """Every dataset's index row for `model`, by dataset id."""
    with session_scope(sessions) as s:
        return repository.get_image_feature_states(s, feature_model=model)
