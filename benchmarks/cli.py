"""`task2box bench ...` subcommands."""

from __future__ import annotations

from backend.cli.app import bench_app

__all__ = ["bench_app"]

# Each benchmark module registers its own `bench` subcommand on import.
from benchmarks import page as _page  # noqa: F401
