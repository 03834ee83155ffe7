"""`task2box bench ...` subcommands."""

from __future__ import annotations

from backend.cli.app import bench_app

__all__ = ["bench_app"]
