"""The built-in catalog: well-known image-classification datasets, shipped with the package.

It lets the app show a map with no network at all (DESIGN §4, "Offline").
"""

from backend.catalog.loader import load_catalog
from backend.catalog.seed import seed_catalog, seed_if_empty

__all__ = ["load_catalog", "seed_catalog", "seed_if_empty"]
