"""Job tests use the fake Hub on 127.0.0.1 (see tests/fakehub.py)."""

from tests.atlas_fixtures import seeded_atlas
from tests.clip_fixtures import clip_dir
from tests.fakehub_fixtures import fake_hub, hub_settings

__all__ = ["clip_dir", "fake_hub", "hub_settings", "seeded_atlas"]
