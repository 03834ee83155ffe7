"""Hub crawler: huggingface_hub I/O and pure parsing into `DatasetRecord`s (no DB, no torch)."""

from backend.crawler.hub_client import ClientStats, HubClient, RawDataset

__all__ = ["ClientStats", "HubClient", "RawDataset"]
