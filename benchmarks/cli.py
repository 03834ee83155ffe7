"""`task2box bench ...` subcommands."""

from __future__ import annotations

import benchmarks.speed_cli  # noqa: F401  (registers `bench speed`)
from backend.cli.app import bench_app

__all__ = ["bench_app"]
