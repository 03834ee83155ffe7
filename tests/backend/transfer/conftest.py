"""Transfer tests share the seeded atlas and, on top of it, a trained transfer atlas."""

from tests.atlas_fixtures import seeded_atlas
from tests.transfer_fixtures import transfer_atlas

__all__ = ["seeded_atlas", "transfer_atlas"]
