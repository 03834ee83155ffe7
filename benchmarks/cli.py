"""`task2box bench ...` subcommands; importing a module registers its command on `bench_app`."""

from __future__ import annotations

import benchmarks.hierarchy.cli
import benchmarks.speed_cli  # noqa: F401  (registers `bench speed`)
from backend.cli.app import bench_app

__all__ = ["bench_app"]
