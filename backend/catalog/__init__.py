"""The built-in catalog: well-known image-classification datasets, shipped with the package.

It lets the app show a map with no network at all: a fresh install that cannot reach the Hub
still has datasets to map.
"""

from backend.catalog.loader import load_catalog
from backend.catalog.seed import seed_catalog, seed_if_empty

__all__ = ["load_catalog", "seed_catalog", "seed_if_empty"]
